#pragma once

// Included once, by a program's main file. Built with AddressSanitizer (scripts/asan.sh):
// LeakSanitizer's check at exit stops the process with a helper started by clone(2) without
// CLONE_THREAD, which the system-call filter of a confined anyscan process refuses, so those
// programs do not ask for it; the test binaries running the same code in-process, and the
// fuzzers, are leak-checked.
#if defined(__SANITIZE_ADDRESS__)
#define ANYSCAN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ANYSCAN_ASAN 1
#endif
#endif
#ifdef ANYSCAN_ASAN
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif
