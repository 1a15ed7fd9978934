#include "storage/tlog/note.h"


#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "storage/tlog/string_util.h"

namespace parley {

using storage_internal::Av;
using storage_internal::Split;
namespace {

// The signature line prefix: U+2014 EM DASH and a space.
constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";

// Decodes UTF-8 into code points; false on invalid input (truncation,
// overlong forms, surrogates, > U+10FFFF).
bool DecodeUtf8(std::string_view s, std::vector<uint32_t>* out) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      extra = 0;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    if (out != nullptr) out->push_back(cp);
    i += extra + 1;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) { return DecodeUtf8(s, nullptr); }

// Unicode White_Space code points beyond ASCII.
bool IsUnicodeSpace(uint32_t cp) {
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

absl::Status ValidateText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("note text must end with a newline");
  }
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError("note text is not valid UTF-8");
  }
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u == 0x7F) {
      return absl::InvalidArgumentError(
          "note text holds a control character other than newline");
    }
  }
  return absl::OkStatus();
}

std::string KeyIdBytes(uint32_t key_id) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(key_id >> (24 - 8 * i));
  return out;
}

}  // namespace

absl::Status ValidateKeyName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("key name is empty");
  std::vector<uint32_t> code_points;
  if (!DecodeUtf8(name, &code_points)) {
    return absl::InvalidArgumentError("key name is not valid UTF-8");
  }
  for (uint32_t cp : code_points) {
    if (cp <= 0x20 || cp == 0x7F || cp == '+' || IsUnicodeSpace(cp)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key name \"", Av(name), "\" holds a space, control character or '+'"));
    }
  }
  return absl::OkStatus();
}

uint32_t Ed25519NoteKeyId(std::string_view name, std::string_view public_key) {
  std::string h = Sha256(
      {name, "\n", std::string_view(&kNoteEd25519Type, 1), public_key});
  return (uint32_t{static_cast<uint8_t>(h[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(h[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(h[2])} << 8) |
         uint32_t{static_cast<uint8_t>(h[3])};
}

absl::StatusOr<std::string> FormatVerifierKey(std::string_view name,
                                              std::string_view public_key) {
  if (absl::Status s = ValidateKeyName(name); !s.ok()) return s;
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  return absl::StrCat(
      Av(name), "+", HexEncode(KeyIdBytes(Ed25519NoteKeyId(name, public_key))),
      "+",
      Base64Encode(absl::StrCat(Av(std::string_view(&kNoteEd25519Type, 1)),
                                Av(public_key))));
}

absl::StatusOr<NoteVerifier> ParseVerifierKey(std::string_view verifier_key) {
  // name+keyid+key; the base64 key may itself contain '+'.
  size_t first = verifier_key.find('+');
  size_t second = first == std::string_view::npos
                      ? std::string_view::npos
                      : verifier_key.find('+', first + 1);
  if (second == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "verifier key must be name+keyid+key (three '+'-separated parts)");
  }
  std::string_view parts[3] = {verifier_key.substr(0, first),
                               verifier_key.substr(first + 1, second - first - 1),
                               verifier_key.substr(second + 1)};
  if (absl::Status s = ValidateKeyName(parts[0]); !s.ok()) return s;
  if (parts[1].size() != 8 ||
      parts[1].find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "verifier key id must be 8 lower-case hex digits");
  }
  absl::StatusOr<std::string> id = HexDecode(parts[1]);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> key = Base64Decode(parts[2]);
  if (!key.ok()) return key.status();
  if (key->size() != 1 + kEd25519PublicKeySize ||
      (*key)[0] != kNoteEd25519Type) {
    return absl::InvalidArgumentError(
        "verifier key is not an Ed25519 key (type 0x01, 32 bytes)");
  }
  NoteVerifier v;
  v.name = std::string(parts[0]);
  v.public_key = key->substr(1);
  v.key_id = Ed25519NoteKeyId(v.name, v.public_key);
  if (KeyIdBytes(v.key_id) != *id) {
    return absl::InvalidArgumentError(
        "verifier key id does not match its name and public key");
  }
  return v;
}

absl::StatusOr<std::string> SignNote(std::string_view text,
                                     std::string_view name,
                                     const Ed25519PrivateKey& key) {
  if (absl::Status s = ValidateText(text); !s.ok()) return s;
  if (absl::Status s = ValidateKeyName(name); !s.ok()) return s;
  uint32_t key_id = Ed25519NoteKeyId(name, key.public_key());
  std::string sig = key.Sign(text);
  return absl::StrCat(Av(text), "\n", Av(kSignaturePrefix), Av(name), " ",
                      Base64Encode(absl::StrCat(KeyIdBytes(key_id), sig)),
                      "\n");
}

absl::StatusOr<Note> ParseNote(std::string_view note) {
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "note has no blank line between text and signatures");
  }
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  if (absl::Status s = ValidateText(out.text); !s.ok()) return s;
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return absl::InvalidArgumentError(
        "note signatures missing or not newline-terminated");
  }
  sigs.remove_suffix(1);
  for (std::string_view line : Split(sigs, '\n')) {
    if (out.signatures.size() == kMaxNoteSignatures) {
      return absl::InvalidArgumentError("note has too many signatures");
    }
    if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
      return absl::InvalidArgumentError(
          "note signature line does not start with \"\xE2\x80\x94 \"");
    }
    line.remove_prefix(kSignaturePrefix.size());
    size_t space = line.rfind(' ');
    if (space == std::string_view::npos) {
      return absl::InvalidArgumentError("note signature line lacks a name");
    }
    std::string_view name = line.substr(0, space);
    if (absl::Status s = ValidateKeyName(name); !s.ok()) return s;
    absl::StatusOr<std::string> blob = Base64Decode(line.substr(space + 1));
    if (!blob.ok()) return blob.status();
    if (blob->size() < 5) {
      return absl::InvalidArgumentError("note signature is too short");
    }
    NoteSignature sig;
    sig.name = std::string(name);
    for (int i = 0; i < 4; ++i) {
      sig.key_id = (sig.key_id << 8) | static_cast<uint8_t>((*blob)[i]);
    }
    sig.signature = blob->substr(4);
    out.signatures.push_back(std::move(sig));
  }
  return out;
}

absl::StatusOr<std::string> VerifyNote(std::string_view note,
                                       const NoteVerifier& verifier) {
  absl::StatusOr<Note> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  bool verified = false;
  for (const NoteSignature& sig : parsed->signatures) {
    if (sig.name != verifier.name || sig.key_id != verifier.key_id) continue;
    if (absl::Status s =
            Ed25519Verify(verifier.public_key, parsed->text, sig.signature);
        !s.ok()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "note signature by ", verifier.name, " does not verify: ",
          s.message()));
    }
    verified = true;
  }
  if (!verified) {
    return absl::UnauthenticatedError(
        absl::StrCat("note carries no signature by ", verifier.name, "+",
                     HexEncode(KeyIdBytes(verifier.key_id))));
  }
  return std::move(parsed->text);
}

}  // namespace parley
