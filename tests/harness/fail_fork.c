/* LD_PRELOAD shim for tests: fork() fails with EAGAIN (as at RLIMIT_NPROC) for the first
 * ROSTRUM_TEST_FAIL_FORKS calls of the process, then works. Root ignores RLIMIT_NPROC, and the
 * tests run as root, so this is how they make fork() fail. With ROSTRUM_TEST_FORK_OUTLIVE set,
 * a child returns from fork() only once its parent has died: the race between fork() and
 * PR_SET_PDEATHSIG, made certain. Built by the tests that use it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

pid_t fork(void) {
    static long failures = -1;
    static pid_t (*real_fork)(void);
    if (failures < 0) {
        const char* v = getenv("ROSTRUM_TEST_FAIL_FORKS");
        failures = v ? atol(v) : 0;
    }
    if (failures > 0) {
        --failures;
        errno = EAGAIN;
        return -1;
    }
    if (!real_fork) real_fork = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
    pid_t parent = getpid();
    pid_t pid = real_fork();
    if (pid == 0 && getenv("ROSTRUM_TEST_FORK_OUTLIVE")) {
        while (getppid() == parent) usleep(1000);
    }
    return pid;
}
