#ifndef PARLEY_CRYPTO_OPENSSL_ERROR_H_
#define PARLEY_CRYPTO_OPENSSL_ERROR_H_

// OpenSSL reports failures through a per-thread error queue. Whoever turns
// a failed OpenSSL call into an absl::Status drains the queue with this, so
// the message carries OpenSSL's reasons and the next call starts clean.

#include <string>

namespace parley {

// Empties this thread's OpenSSL error queue into one line of text
// ("error:...; error:..."), or "no detail from OpenSSL" if it was empty.
std::string DrainOpenSslErrors();

}  // namespace parley

#endif  // PARLEY_CRYPTO_OPENSSL_ERROR_H_
