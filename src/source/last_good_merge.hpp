#pragma once
// A bad edit to one manifest must not delete the rules of what it held: after
// a load with failures, what failed is put back from the last good load until
// it loads again.
#include <string>
#include <vector>

#include "source/manifest_objects.hpp"

namespace kipvs::source {

// `current` (a fresh load) with what a failed file or object held in
// `previous` (the last result of this function) put back: for each failed
// file, the previous objects that came from it (from under it, for the
// directory); for each failed object, its previous version (for Endpoints,
// the slices mirrored from it). Nothing is put back over an object that
// `current` has. Appends one note a file or object kept, as "<file>: kept the
// previous 2 objects until the file loads again". Kept objects keep their
// origin, moved to the file where they failed.
ManifestObjects merge_with_previous(const ManifestObjects& previous, ManifestObjects current,
                                    std::vector<std::string>& notes);

}  // namespace kipvs::source
