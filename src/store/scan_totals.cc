#include "store/scan_totals.h"

namespace anyscan {

void add_counts(Totals& to, const Totals& from) {
  for (const TotalsCount& count : kTotalsCounts) to.*count.member += from.*count.member;
}

}  // namespace anyscan
