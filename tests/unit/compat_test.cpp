// Every glibc compatibility entry point of the musl build, called once
// through the path the archives use.
#include <catch2/catch.hpp>

#include <cerrno>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <string>

#include "compat/glibc_compat.h"
#include "test_support.hpp"

namespace {

int through_vsnprintf_chk(char* buf, std::size_t n, const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    int r = __vsnprintf_chk(buf, n, 1, n, format, ap);
    va_end(ap);
    return r;
}

int through_vfprintf_chk(FILE* f, const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    int r = __vfprintf_chk(f, 1, format, ap);
    va_end(ap);
    return r;
}

int through_vasprintf_chk(char** out, const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    int r = __vasprintf_chk(out, 1, format, ap);
    va_end(ap);
    return r;
}

}  // namespace

TEST_CASE("checked memory and string functions behave as the plain ones", "[compat]") {
    char buf[16] = {};
    CHECK(__memcpy_chk(buf, "abc", 4, sizeof buf) == buf);
    CHECK(std::string(buf) == "abc");
    __memset_chk(buf, 'x', 3, sizeof buf);
    CHECK(std::string(buf) == "xxx");
    __strcpy_chk(buf, "kip", sizeof buf);
    __strcat_chk(buf, "vs", sizeof buf);
    CHECK(std::string(buf) == "kipvs");
}

TEST_CASE("checked printf family formats as the plain one", "[compat]") {
    char buf[32];
    CHECK(__sprintf_chk(buf, 1, sizeof buf, "%d-%s", 7, "a") == 3);
    CHECK(std::string(buf) == "7-a");
    CHECK(__snprintf_chk(buf, sizeof buf, 1, sizeof buf, "%05d", 42) == 5);
    CHECK(std::string(buf) == "00042");
    CHECK(through_vsnprintf_chk(buf, sizeof buf, "%s", "vs") == 2);
    kipvs::test::TempDir dir;
    std::string path = dir.path() + "/out";
    FILE* f = fopen64(path.c_str(), "w");
    REQUIRE(f);
    CHECK(__fprintf_chk(f, 1, "%s", "one ") == 4);
    CHECK(through_vfprintf_chk(f, "%s", "two") == 3);
    std::fclose(f);
    CHECK(kipvs::test::read_file(path) == "one two");
    CHECK(__printf_chk(1, "%s", "") == 0);
    char* out = nullptr;
    CHECK(__asprintf_chk(&out, 1, "%s=%d", "n", 5) == 3);
    CHECK(std::string(out) == "n=5");
    std::free(out);
    CHECK(through_vasprintf_chk(&out, "%x", 255) == 2);
    CHECK(std::string(out) == "ff");
    std::free(out);
    __syslog_chk(7, 1, "%s", "kipvs compat test");
}

TEST_CASE("fd_set index, longjmp and the context stubs", "[compat]") {
    CHECK(__fdelt_chk(0) == 0);
    CHECK(__fdelt_chk(65) == 1);
    static jmp_buf env;
    volatile int jumped = 0;
    if (setjmp(env) == 0) {
        __longjmp_chk(env, 3);
    } else {
        jumped = 1;
    }
    CHECK(jumped == 1);
    char context[1024];
    errno = 0;
    CHECK(getcontext(context) == -1);
    CHECK(errno == ENOSYS);
    CHECK(setcontext(context) == -1);
    makecontext(context, nullptr, 0);
}
