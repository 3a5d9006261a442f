#pragma once
// kipvs reports errors with exceptions at clear boundaries: a parser or a
// kernel wrapper throws an Error carrying full context (file:line:column,
// object, field, errno), and the layer that decides what to do catches it.
#include <stdexcept>
#include <string>

namespace kipvs {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Something wrong in what the operator wrote (configuration, kubeconfig,
// command line): kipvs exits 2 for these.
class ConfigError : public Error {
public:
    using Error::Error;
};

}  // namespace kipvs
