/* rusage OUT CMD [ARG...]: runs CMD and writes to OUT, in one line, its wall time (ns, from just
 * before the fork to wait4's return), user and system CPU time (us) and peak RSS (KiB) from
 * wait4's rusage: what the command and the children it reaped used, to the microsecond (the
 * kernel's sum_exec_runtime), where /proc/<pid>/stat's cutime/cstime count 10 ms ticks. Exits
 * with CMD's status (128 + signal); 127 when it cannot be run. The child dies with this process
 * (PR_SET_PDEATHSIG), so the bench's timeout reaches it. Built by tools/bench/bench.mjs with cc. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUT CMD [ARG...]\n");
		return 127;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 127;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("rusage: wait4");
			return 127;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 127;
	}
	long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	fprintf(f, "%lld %lld %lld %ld\n", ns, (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
		(long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
	if (fclose(f) != 0) {
		perror(argv[1]);
		return 127;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
