/* Debian's static archives (libssl, libcrypto, libnl-*, libipset, libyaml,
 * libzstd, libmnl) were compiled against glibc with _FORTIFY_SOURCE, and
 * reference a few entry points musl does not have. The musl build links this
 * file to supply them; the release link fails loudly (lld: undefined symbol)
 * if a new one ever appears, so this list stays exact.
 *
 * The _chk functions are glibc's checked variants: each checks the
 * destination size the compiler passed and then calls the plain musl function,
 * so the archives keep the protection they were built with. */
#define _GNU_SOURCE
#include "compat/glibc_compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <syslog.h>
#include <unistd.h>

static _Noreturn void fortify_failure(const char *function) {
    static const char prefix[] = "kipvs: buffer overflow detected in ";
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, function, strlen(function));
    (void)!write(2, "\n", 1);
    abort();
}

/* libssl, libcrypto, libnl-route-3, libipset */
void *__memcpy_chk(void *dest, const void *src, size_t len, size_t destlen) {
    if (len > destlen) fortify_failure("memcpy");
    return memcpy(dest, src, len);
}

/* libcrypto */
void *__memset_chk(void *dest, int c, size_t len, size_t destlen) {
    if (len > destlen) fortify_failure("memset");
    return memset(dest, c, len);
}

/* libipset */
char *__strcpy_chk(char *dest, const char *src, size_t destlen) {
    if (strlen(src) >= destlen) fortify_failure("strcpy");
    return strcpy(dest, src);
}

/* libcrypto */
char *__strcat_chk(char *dest, const char *src, size_t destlen) {
    size_t used = strnlen(dest, destlen);
    if (used == destlen || strlen(src) >= destlen - used) fortify_failure("strcat");
    return strcat(dest, src);
}

/* libipset */
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, va_list ap) {
    (void)flag;
    if (maxlen > slen) fortify_failure("vsnprintf");
    return vsnprintf(s, maxlen, format, ap);
}

/* libnl-3, libnl-route-3, libipset */
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __vsnprintf_chk(s, maxlen, flag, slen, format, ap);
    va_end(ap);
    return n;
}

/* libssl, libnl-route-3, libipset, libyaml */
int __sprintf_chk(char *s, int flag, size_t slen, const char *format, ...) {
    (void)flag;
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(s, slen, format, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= slen) fortify_failure("sprintf");
    return n;
}

/* libcrypto, libnl-3, libipset */
int __vfprintf_chk(FILE *stream, int flag, const char *format, va_list ap) {
    (void)flag;
    return vfprintf(stream, format, ap);
}

/* libcrypto, libnl-*, libipset, libzstd, libmnl */
int __fprintf_chk(FILE *stream, int flag, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __vfprintf_chk(stream, flag, format, ap);
    va_end(ap);
    return n;
}

/* libnl-route-3, libipset */
int __printf_chk(int flag, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __vfprintf_chk(stdout, flag, format, ap);
    va_end(ap);
    return n;
}

/* libnl-3 */
int __vasprintf_chk(char **result, int flag, const char *format, va_list ap) {
    (void)flag;
    return vasprintf(result, format, ap);
}

/* libnl-route-3 */
int __asprintf_chk(char **result, int flag, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __vasprintf_chk(result, flag, format, ap);
    va_end(ap);
    return n;
}

/* libcrypto */
void __syslog_chk(int priority, int flag, const char *format, ...) {
    (void)flag;
    va_list ap;
    va_start(ap, format);
    vsyslog(priority, format, ap);
    va_end(ap);
}

/* libcrypto (FD_SET/FD_ISSET under _FORTIFY_SOURCE) */
long __fdelt_chk(long fd) {
    if (fd < 0 || fd >= FD_SETSIZE) fortify_failure("FD_SET");
    return fd / (8 * (long)sizeof(long));
}

/* libipset: glibc's checked longjmp. The matching setjmp is musl's too, so
 * the jmp_buf is musl's own on both sides. */
_Noreturn void __longjmp_chk(jmp_buf env, int value) { longjmp(env, value); }

/* libcrypto: musl's off_t is always 64 bits, so fopen is fopen64. */
FILE *fopen64(const char *path, const char *mode) { return fopen(path, mode); }

/* libcrypto: only OpenSSL's asynchronous jobs (ASYNC_start_job) switch
 * contexts, and kipvs never starts one. Failing with ENOSYS makes OpenSSL
 * report that async jobs are unavailable instead of crashing. */
int getcontext(void *ucp) {
    (void)ucp;
    errno = ENOSYS;
    return -1;
}

int setcontext(const void *ucp) {
    (void)ucp;
    errno = ENOSYS;
    return -1;
}

void makecontext(void *ucp, void (*func)(void), int argc, ...) {
    (void)ucp;
    (void)func;
    (void)argc;
}
