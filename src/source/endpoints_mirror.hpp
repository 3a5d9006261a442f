#pragma once
// kipvs's model knows only EndpointSlices; a v1 Endpoints manifest is read as
// the slices the EndpointSlice mirroring controller would have written for it
// in a cluster, so both kinds reach the proxy the same way.
#include <vector>

#include <boost/json/value.hpp>

#include "model/endpoint_slice.hpp"

namespace kipvs::source {

// A v1 Endpoints object as the slices the mirroring controller makes of it:
// one slice per subset and address family, named after the Endpoints object
// when there is only one and "<name>-<index>" otherwise; addresses are ready,
// notReadyAddresses neither ready nor serving; an unnamed port is named "".
// Throws kube::DecodeError ("Endpoints ns/name: subsets[0]...: ...").
std::vector<model::EndpointSlice> mirror_endpoints(const boost::json::value& endpoints);

}  // namespace kipvs::source
