/* The glibc-only entry points that Debian's static C archives reference and
 * musl does not provide; defined in glibc_compat.c for the musl build only.
 * Declared here so that tests can call each one. */
#ifndef KIPVS_GLIBC_COMPAT_H
#define KIPVS_GLIBC_COMPAT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

void *__memcpy_chk(void *dest, const void *src, size_t len, size_t destlen);
void *__memset_chk(void *dest, int c, size_t len, size_t destlen);
char *__strcpy_chk(char *dest, const char *src, size_t destlen);
char *__strcat_chk(char *dest, const char *src, size_t destlen);
int __sprintf_chk(char *s, int flag, size_t slen, const char *format, ...);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, va_list ap);
int __printf_chk(int flag, const char *format, ...);
int __fprintf_chk(FILE *stream, int flag, const char *format, ...);
int __vfprintf_chk(FILE *stream, int flag, const char *format, va_list ap);
int __asprintf_chk(char **result, int flag, const char *format, ...);
int __vasprintf_chk(char **result, int flag, const char *format, va_list ap);
void __syslog_chk(int priority, int flag, const char *format, ...);
long __fdelt_chk(long fd);
_Noreturn void __longjmp_chk(jmp_buf env, int value);
FILE *fopen64(const char *path, const char *mode);
/* ucontext_t is not needed by any caller that reaches these; keep them opaque. */
int getcontext(void *ucp);
int setcontext(const void *ucp);
void makecontext(void *ucp, void (*func)(void), int argc, ...);

#ifdef __cplusplus
}
#endif

#endif
