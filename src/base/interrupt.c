/* Ctrl-C as a request, not a kill: interactive commands stop a reply and go on. A signal
 * carries no context, so the request is a process-wide flag, the one global here. A second
 * Ctrl-C before the first was taken ends the process, so a stuck program can still be
 * stopped. On POSIX the handler does not restart interrupted reads: a Ctrl-C at a prompt
 * makes the read return, and the caller sees the request. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include "base.h"

#include <signal.h>
#include <stdlib.h>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

static volatile sig_atomic_t g_interrupt_requests;

static void on_interrupt(int sig)
{
    if (g_interrupt_requests)
        _Exit(128 + sig);
    g_interrupt_requests = 1;
#ifdef _WIN32
    signal(SIGINT, on_interrupt); /* the Windows CRT resets the handler on each signal */
#endif
}

void tm_interrupt_install(void)
{
    g_interrupt_requests = 0;
#ifdef _WIN32
    signal(SIGINT, on_interrupt);
#else
    struct sigaction sa;
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    sigaction(SIGINT, &sa, NULL);
#endif
}

bool tm_interrupt_take(void)
{
    if (!g_interrupt_requests)
        return false;
    g_interrupt_requests = 0;
    return true;
}

bool tm_stdin_is_terminal(void)
{
#ifdef _WIN32
    return _isatty(_fileno(stdin)) != 0;
#else
    return isatty(STDIN_FILENO) != 0;
#endif
}
