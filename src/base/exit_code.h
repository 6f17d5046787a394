#pragma once

namespace anyscan {

// sysexits(3) codes; anyscan(8) "EXIT STATUS" lists which failure maps to which.
enum class ExitCode : int {
  kOk = 0,
  kUsage = 64,        // EX_USAGE: bad flag or flag value
  kDataErr = 65,      // EX_DATAERR: bad target / blocklist / allowlist file contents
  kNoInput = 66,      // EX_NOINPUT: an input file cannot be opened
  kUnavailable = 69,  // EX_UNAVAILABLE: interface or engine unavailable
  kNoUser = 67,       // EX_NOUSER: --user names no account
  kSoftware = 70,     // EX_SOFTWARE: internal error
  kCantCreate = 73,   // EX_CANTCREAT: cannot create an output file
  kIoErr = 74,        // EX_IOERR: write to an output failed
  kTempFail = 75,     // EX_TEMPFAIL: another run holds the results file; try again later
  kNoPerm = 77,       // EX_NOPERM: missing capability
  kConfig = 78,       // EX_CONFIG: bad configuration file
};

}  // namespace anyscan
