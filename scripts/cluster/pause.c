// SPDX-License-Identifier: Apache-2.0
// The pod sandbox's pause process: holds the pod's namespaces open and exits on
// SIGTERM/SIGINT. Built here because no registry with the upstream pause image is
// reachable; static, so the image needs nothing but this binary.
#include <signal.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

int main(void) {
	signal(SIGTERM, quit);
	signal(SIGINT, quit);
	// As PID 1 of the pod it also reaps orphans: ignoring SIGCHLD makes the kernel do it.
	signal(SIGCHLD, SIG_IGN);
	for (;;) pause();
}
