#include "client/core/device.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/core/delivery_check.h"
#include "client/core/did_you_mean.h"
#include "client/core/log_client.h"
#include "client/core/payloads.h"
#include "client/core/rejected_entries.h"
#include "client/core/retry.h"
#include "client/core/sealed_file.h"
#include "crypto/envelope.h"
#include "crypto/fingerprint.h"
#include "crypto/hash.h"
#include "crypto/receipt.h"
#include "crypto/statements.h"
#include "grpcpp/client_context.h"
#include "parley/v1/channels.grpc.pb.h"
#include "parley/v1/identity.grpc.pb.h"
#include "parley/v1/log.grpc.pb.h"
#include "storage/tlog/log_entry.h"
#include "storage/tlog/merkle.h"

namespace parley {
namespace {

constexpr size_t kReceiptBatch = 32;

SyncEvent MakeEvent(SyncEvent::Kind kind, uint64_t index) {
  SyncEvent event;
  event.kind = kind;
  event.index = index;
  return event;
}

// Options::max_message_bytes, else the server's limit, else the default.
uint64_t MaxMessageBytes(const Device::Options& options,
                         const ProfileIdentity& identity) {
  if (options.max_message_bytes != 0) return options.max_message_bytes;
  if (identity.server_max_message_bytes != 0) {
    return identity.server_max_message_bytes;
  }
  return kDefaultMaxMessageBytes;
}

std::string KeystorePathIn(const std::string& dir) {
  return absl::StrCat(dir, "/keystore");
}

}  // namespace

Device::Device(std::unique_ptr<Session> session, LocalState state,
               ProfileIdentity identity, DeviceKeys keys,
               SecureBuffer passphrase, LogTrust trust, const Options& options,
               Profile profile)
    : session_(std::move(session)),
      state_(std::move(state)),
      identity_(std::move(identity)),
      keys_(std::move(keys)),
      passphrase_(std::move(passphrase)),
      trust_(std::move(trust)),
      clock_(*options.clock),
      random_(*options.random),
      profile_dir_(profile.dir()),
      auth_(*session_, keys_.identity(), identity_.origin, clock_),
      recipients_(state_, clock_, identity_.name,
                  [this] { return keys_.Bundle(); }, options.require_online,
                  {.list_members = [this] { return ListMembers(); },
                   .fetch_bundle =
                       [this](const std::string& name)
                           -> absl::StatusOr<KeyBundle> {
                     KeyBundle bundle;
                     absl::StatusOr<v1::KeyBundleRecord> record =
                         FetchVerifiedBundle(name, &bundle);
                     if (!record.ok()) return record.status();
                     return bundle;
                   }}),
      outbox_(state_, *session_, auth_, clock_, random_, stop_, warnings_,
              {.require_online = options.require_online}),
      log_(*session_, auth_, std::move(profile), state_, trust_,
           identity_.verifier_key),
      notifications_(*session_, auth_, state_, identity_, keys_, clock_,
                     random_, recipients_, outbox_, log_,
                     {.list_members = [this] { return ListMembers(); },
                      .member_key =
                          [this](const std::string& name) {
                            return MemberKey(name);
                          }},
                     {.require_online = options.require_online,
                      .max_message_bytes = MaxMessageBytes(options, identity_)}),
      require_online_(options.require_online),
      max_message_bytes_(MaxMessageBytes(options, identity_)) {}

std::string Device::KeystorePath() const { return KeystorePathIn(profile_dir_); }

absl::StatusOr<std::unique_ptr<Device>> Device::Enroll(
    const Profile& profile, const Options& options,
    const EnrollParams& params) {
  if (LocalState::HasIdentityIn(profile.dir())) {
    return absl::AlreadyExistsError(absl::StrCat(
        "profile ", profile.dir(),
        " is enrolled already; use another --profile or --home"));
  }
  const std::string invite(absl::StripAsciiWhitespace(params.invite));
  if (invite.empty()) return absl::InvalidArgumentError("--invite is empty");

  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Connect(profile, options.connect);
  if (!session.ok()) return session.status();
  absl::StatusOr<v1::ServerInfo> info = (*session)->GetServerInfo();
  if (!info.ok()) return info.status();
  absl::StatusOr<LogTrust> trust =
      MakeLogTrust(info->origin(), info->verifier_key());
  if (!trust.ok()) return trust.status();

  absl::StatusOr<SecureBuffer> passphrase =
      ObtainPassphrase(options.passphrase, /*confirm=*/true);
  if (!passphrase.ok()) return passphrase.status();
  absl::StatusOr<DeviceKeys> keys =
      DeviceKeys::Generate(options.clock->Now(), *options.random);
  if (!keys.ok()) return keys.status();
  if (absl::Status s = keys->Save(KeystorePathIn(profile.dir()),
                                  passphrase->view(), *options.random);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<LocalState> state =
      LocalState::Open(profile.dir(), DeriveStateKey(keys->identity()));
  if (!state.ok()) return state.status();

  const std::string bundle = SerializeKeyBundle(keys->Bundle());
  const std::string invite_hash = Sha256(invite);
  v1::EnrollRequest request;
  request.set_invite(invite);
  request.set_name(params.name);
  request.set_key_bundle(bundle);
  request.set_signature(keys->identity().Sign(
      EnrollStatement(invite_hash, params.name, bundle)));
  v1::EnrollResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, (*session)->timeout());
  grpc::Status status = v1::Identity::NewStub((*session)->channel())
                            ->Enroll(&context, request, &response);
  if (!status.ok()) return FromRpcStatus(status, (*session)->pin().address);

  ProfileIdentity identity;
  identity.name = response.member().name();
  identity.role = static_cast<MemberRole>(response.member().role());
  identity.organisation = response.member().organisation();
  identity.identity_key = keys->identity().public_key();
  identity.origin = info->origin();
  identity.verifier_key = info->verifier_key();
  identity.registration_index = response.registration_index();
  identity.published_prekey_id = keys->current_signed_prekey().prekey.key_id;
  identity.server_max_message_bytes = info->max_message_bytes();
  if (absl::Status s = state->SaveIdentity(identity); !s.ok()) return s;
  if (absl::Status s = state->ObserveMemberKey(identity.name,
                                               identity.identity_key)
                           .status();
      !s.ok()) {
    return s;
  }
  return std::unique_ptr<Device>(
      new Device(*std::move(session), *std::move(state), std::move(identity),
                 *std::move(keys), *std::move(passphrase), *std::move(trust),
                 options, profile));
}

absl::StatusOr<std::unique_ptr<Device>> Device::Open(const Profile& profile,
                                                     const Options& options) {
  absl::StatusOr<ProfileIdentity> identity =
      LocalState::LoadIdentityFrom(profile.dir());
  if (!identity.ok()) return identity.status();
  absl::StatusOr<LogTrust> trust =
      MakeLogTrust(identity->origin, identity->verifier_key);
  if (!trust.ok()) return trust.status();
  absl::StatusOr<SecureBuffer> passphrase =
      ObtainPassphrase(options.passphrase, /*confirm=*/false);
  if (!passphrase.ok()) return passphrase.status();
  absl::StatusOr<DeviceKeys> keys =
      DeviceKeys::Load(KeystorePathIn(profile.dir()), passphrase->view());
  if (!keys.ok()) return keys.status();
  if (keys->identity().public_key() != identity->identity_key) {
    return absl::DataLossError(absl::StrCat(
        "the keystore in ", profile.dir(),
        " holds another identity than identity.json names"));
  }
  absl::StatusOr<LocalState> state =
      LocalState::Open(profile.dir(), DeriveStateKey(keys->identity()));
  if (!state.ok()) return state.status();
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Connect(profile, options.connect);
  if (!session.ok()) return session.status();
  return std::unique_ptr<Device>(
      new Device(*std::move(session), *std::move(state), *std::move(identity),
                 *std::move(keys), *std::move(passphrase), *std::move(trust),
                 options, profile));
}

// ---------------------------------------------------------------------------
// Housekeeping

absl::StatusOr<std::vector<std::string>> Device::Maintain() {
  std::vector<std::string> notes;
  const absl::Time now = clock_.Now();
  const SignedPrekey& current = keys_.current_signed_prekey().prekey;
  if (PrekeyNeedsRotation(current, now) ||
      identity_.published_prekey_id != current.key_id) {
    if (PrekeyNeedsRotation(current, now)) {
      absl::StatusOr<KeyBundle> rotated =
          keys_.RotateSignedPrekey(now, random_);
      if (!rotated.ok()) return rotated.status();
      // Saved before publishing: the server must never hold a prekey whose
      // private part we could lose.
      if (absl::Status s = keys_.Save(KeystorePath(), passphrase_.view(),
                                      random_);
          !s.ok()) {
        return s;
      }
    }
    const std::string bundle = SerializeKeyBundle(keys_.Bundle());
    v1::PublishKeyBundleRequest request;
    request.set_key_bundle(bundle);
    request.set_signature(
        keys_.identity().Sign(RotateStatement(identity_.name, bundle)));
    v1::PublishKeyBundleResponse response;
    auto api = v1::Directory::NewStub(session_->channel());
    absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
      return api->PublishKeyBundle(c, request, &response);
    });
    if (!s.ok()) {
      notes.push_back(absl::StrCat(
          "could not publish the new signed prekey (will retry): ",
          s.message()));
    } else {
      identity_.published_prekey_id = keys_.current_signed_prekey().prekey.key_id;
      identity_.registration_index = response.log_index();
      if (absl::Status st = state_.SaveIdentity(identity_); !st.ok()) return st;
      notes.push_back(absl::StrCat("published signed prekey ",
                                   identity_.published_prekey_id,
                                   " (log index ", response.log_index(), ")"));
    }
  }
  if (keys_.EraseExpired(now) > 0) {
    if (absl::Status s = keys_.Save(KeystorePath(), passphrase_.view(),
                                    random_);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = FlushReceipts(); !s.ok() && !IsTransient(s)) {
    notes.push_back(absl::StrCat("receipts: ", s.message()));
  }
  if (absl::Status s = outbox_.Flush(); !s.ok() && !IsTransient(s)) {
    notes.push_back(absl::StrCat("outbox: ", s.message()));
  }
  return notes;
}

absl::Status Device::FlushReceipts() {
  auto api = v1::Channels::NewStub(session_->channel());
  while (!state_.pending_receipts().empty()) {
    const auto& pending = state_.pending_receipts();
    const size_t n = std::min<size_t>(pending.size(), 100);
    v1::SubmitReceiptsRequest request;
    for (size_t i = 0; i < n; ++i) {
      v1::ReceiptSubmission* r = request.add_receipts();
      r->set_envelope_index(pending[i].envelope_index);
      r->set_receipt(pending[i].receipt);
    }
    v1::SubmitReceiptsResponse response;
    absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
      return api->SubmitReceipts(c, request, &response);
    });
    if (!s.ok() && IsTransient(s)) return s;
    // Accepted, or refused for good (e.g. the envelope's channel is gone):
    // either way, sending them again cannot change the answer.
    if (absl::Status d = state_.DropPendingReceipts(n); !d.ok()) return d;
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Log verification

// ---------------------------------------------------------------------------
// Directory

absl::StatusOr<v1::KeyBundleRecord> Device::FetchVerifiedBundle(
    const std::string& name, KeyBundle* bundle) {
  auto directory = v1::Directory::NewStub(session_->channel());
  v1::GetKeyBundleRequest request;
  request.set_name(name);
  v1::KeyBundleRecord record;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return directory->GetKeyBundle(c, request, &record);
  });
  if (!s.ok()) return WithMemberSuggestion(s);
  if (record.member().name() != name) {
    return absl::DataLossError(absl::StrCat("asked the directory for ", name,
                                            ", got ",
                                            record.member().name()));
  }
  if (record.member().revoked()) return MemberRevokedError(name);
  auto log = v1::Log::NewStub(session_->channel());
  v1::GetInclusionProofRequest proof_request;
  proof_request.set_index(record.member().registration_index());
  v1::InclusionProof proof;
  auto get_proof = [&] {
    return auth_.Call([&](grpc::ClientContext* c) {
      return log->GetInclusionProof(c, proof_request, &proof);
    });
  };
  s = get_proof();
  if (!s.ok() && !IsTransient(s) && !absl::IsPermissionDenied(s)) {
    // Probably newer than the latest checkpoint: ask for a fresh one.
    if (log_.FreshCheckpoint(nullptr).ok()) s = get_proof();
  }
  if (!s.ok()) return s;
  absl::StatusOr<KeyBundle> verified = VerifyKeyBundleRecord(
      record, proof, trust_,
      bundle != nullptr ? std::optional<absl::Time>(clock_.Now())
                        : std::nullopt);
  if (!verified.ok()) return verified.status();
  if (absl::Status n =
          log_.NoteCheckpointText(proof.checkpoint().note()).status();
      !n.ok()) {
    return n;
  }
  if (name == identity_.name) {
    if (verified->identity_public_key != identity_.identity_key) {
      return absl::DataLossError(
          "the directory holds another identity key for this device's own "
          "name: the server is lying or this device was replaced");
    }
  } else {
    absl::StatusOr<KeyObservation> seen =
        state_.ObserveMemberKey(name, verified->identity_public_key);
    if (!seen.ok()) return seen.status();
    if (*seen == KeyObservation::kChanged) {
      absl::StatusOr<std::string> fp =
          IdentityFingerprint(verified->identity_public_key);
      warnings_.push_back(absl::StrCat(
          "WARNING: the identity key of ", name,
          " has CHANGED. New fingerprint: ", fp.ok() ? *fp : "?",
          ". Compare it out of band before trusting messages to or from ",
          name, "."));
    }
  }
  if (bundle != nullptr) {
    // Verified at the current time: good for sealing while offline.
    if (absl::Status c = state_.CacheKeyBundle(name, SerializeKeyBundle(*verified));
        !c.ok()) {
      return c;
    }
    *bundle = *std::move(verified);
  }
  return record;
}

absl::Status Device::WithMemberSuggestion(absl::Status s) {
  std::optional<std::string> typed = UnknownMemberIn(std::string(s.message()));
  if (!typed.has_value()) return s;
  auto api = v1::Directory::NewStub(session_->channel());
  v1::ListMembersResponse members;
  if (!auth_.Call([&](grpc::ClientContext* c) {
         return api->ListMembers(c, v1::ListMembersRequest(), &members);
       }).ok()) {
    return s;
  }
  std::vector<std::string> names;
  for (const v1::Member& m : members.members()) names.push_back(m.name());
  std::optional<std::string> guess = ClosestName(*typed, names);
  if (!guess.has_value()) return s;
  return absl::Status(s.code(), absl::StrCat(s.message(), "; did you mean ",
                                             *guess, "?"));
}

absl::StatusOr<std::vector<v1::Member>> Device::ListMembers() {
  auto api = v1::Directory::NewStub(session_->channel());
  v1::ListMembersResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->ListMembers(c, v1::ListMembersRequest(), &response);
  });
  if (!s.ok()) return s;
  std::vector<CachedMember> cache;
  for (const v1::Member& m : response.members()) {
    cache.push_back(CachedMember{m.name(), static_cast<MemberRole>(m.role()),
                                 m.organisation(), m.revoked()});
  }
  if (absl::Status c = state_.CacheMembers(cache); !c.ok()) return c;
  return std::vector<v1::Member>(response.members().begin(),
                                 response.members().end());
}

absl::StatusOr<std::string> Device::MemberKey(const std::string& name) {
  if (name == identity_.name) return identity_.identity_key;
  if (std::optional<Contact> c = state_.FindContact(name); c.has_value()) {
    return c->identity_key;
  }
  absl::StatusOr<v1::KeyBundleRecord> record =
      FetchVerifiedBundle(name, nullptr);
  if (!record.ok()) return record.status();
  return record->member().identity_key();
}

absl::StatusOr<std::string> Device::MemberNameForKey(const std::string& key) {
  if (key == identity_.identity_key) return identity_.name;
  if (std::optional<Contact> c = state_.FindContactByKey(key); c.has_value()) {
    return c->name;
  }
  auto api = v1::Directory::NewStub(session_->channel());
  v1::ListMembersResponse members;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->ListMembers(c, v1::ListMembersRequest(), &members);
  });
  if (!s.ok()) return s;
  for (const v1::Member& m : members.members()) {
    if (m.identity_key() != key) continue;
    absl::StatusOr<v1::KeyBundleRecord> record =
        FetchVerifiedBundle(m.name(), nullptr);
    if (!record.ok()) return record.status();
    if (record->member().identity_key() == key) return m.name();
  }
  return absl::NotFoundError("no member has this identity key");
}

absl::StatusOr<std::vector<DirectoryEntry>> Device::ListDirectory() {
  absl::StatusOr<std::vector<v1::Member>> members = ListMembers();
  if (!members.ok()) return members.status();
  // Sealing that follows (notify checks its parties here first) uses this
  // answer rather than asking again.
  recipients_.Remember(*members);
  std::vector<DirectoryEntry> out;
  for (const v1::Member& m : *members) {
    DirectoryEntry e;
    e.member = m;
    absl::StatusOr<std::string> fp = IdentityFingerprint(m.identity_key());
    e.fingerprint = fp.ok() ? *fp : "(malformed key)";
    if (std::optional<Contact> c = state_.FindContact(m.name());
        c.has_value() && !c->verified_key.empty()) {
      e.verified = c->verified_key == m.identity_key();
      e.key_changed = !e.verified;
    }
    if (m.name() == identity_.name) e.verified = true;
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<VerifyResult> Device::VerifyMember(
    const std::string& name, const std::string& fingerprint) {
  absl::StatusOr<std::string> typed = NormalizeIdentityFingerprint(fingerprint);
  if (!typed.ok()) return typed.status();
  absl::StatusOr<v1::KeyBundleRecord> record = FetchVerifiedBundle(name, nullptr);
  if (!record.ok()) return record.status();
  const std::string& key = record->member().identity_key();
  absl::StatusOr<std::string> actual = IdentityFingerprint(key);
  if (!actual.ok()) return actual.status();
  if (*actual != *typed) {
    return absl::DataLossError(absl::StrCat(
        "fingerprint mismatch: the verified directory key of ", name,
        " has fingerprint ", *actual, ", not ", *typed,
        ". Do not trust this key; nothing was recorded"));
  }
  if (name != identity_.name) {
    if (absl::Status s = state_.MarkVerified(name, key); !s.ok()) return s;
  }
  VerifyResult result{name, *actual, ""};
  if (name != identity_.name) {
    absl::StatusOr<std::string> pair =
        PairFingerprint(identity_.identity_key, key);
    if (pair.ok()) result.pair_fingerprint = *pair;
  }
  return result;
}

// ---------------------------------------------------------------------------
// Admin

absl::StatusOr<v1::Invite> Device::CreateInvite(
    MemberRole role, const std::string& name, const std::string& organisation,
    absl::Duration expires_in) {
  auto api = v1::Admin::NewStub(session_->channel());
  v1::CreateInviteRequest request;
  request.set_role(static_cast<v1::Role>(role));
  request.set_name(name);
  request.set_organisation(organisation);
  request.set_expires_in_seconds(absl::ToInt64Seconds(expires_in));
  v1::Invite invite;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->CreateInvite(c, request, &invite);
  });
  if (!s.ok()) return s;
  return invite;
}

absl::StatusOr<uint64_t> Device::Revoke(const std::string& name,
                                        const std::string& reason) {
  auto api = v1::Admin::NewStub(session_->channel());
  v1::RevokeRequest request;
  request.set_name(name);
  request.set_reason(reason);
  v1::RevokeResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->Revoke(c, request, &response);
  });
  if (!s.ok()) return WithMemberSuggestion(s);
  return response.log_index();
}

// ---------------------------------------------------------------------------
// Channels and sending

absl::StatusOr<v1::ChannelInfo> Device::CreateChannel(
    const std::string& name, const std::vector<std::string>& members) {
  auto api = v1::Channels::NewStub(session_->channel());
  v1::CreateChannelRequest request;
  request.set_name(name);
  for (const std::string& m : members) request.add_members(m);
  v1::ChannelInfo info;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->CreateChannel(c, request, &info);
  });
  if (!s.ok()) return WithMemberSuggestion(s);
  return info;
}

absl::StatusOr<std::vector<v1::ChannelInfo>> Device::ListChannels() {
  auto api = v1::Channels::NewStub(session_->channel());
  v1::ListChannelsResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->ListChannels(c, v1::ListChannelsRequest(), &response);
  });
  if (!s.ok()) return s;
  for (const v1::ChannelInfo& c : response.channels()) {
    if (absl::Status cached = state_.CacheChannelMembers(
            c.name(),
            std::vector<std::string>(c.members().begin(), c.members().end()));
        !cached.ok()) {
      return cached;
    }
  }
  return std::vector<v1::ChannelInfo>(response.channels().begin(),
                                      response.channels().end());
}

absl::StatusOr<v1::ChannelInfo> Device::FindChannel(const std::string& name) {
  absl::StatusOr<std::vector<v1::ChannelInfo>> channels = ListChannels();
  if (!channels.ok()) return channels.status();
  for (v1::ChannelInfo& c : *channels) {
    if (c.name() == name) return std::move(c);
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "you are not a member of a channel named \"", name,
      "\" (`parley channel list` shows yours)"));
}

absl::StatusOr<SendResult> Device::Send(const std::string& channel,
                                        const std::string& content_type,
                                        const std::string& payload) {
  return SealAndSend(channel, content_type, payload, RelayMode::kNone, 0);
}

absl::StatusOr<SendResult> Device::Relay(uint64_t index,
                                         const std::string& channel,
                                         RelayMode mode) {
  if (mode == RelayMode::kNone) {
    return absl::InvalidArgumentError("choose --verbatim or --anonymous");
  }
  absl::StatusOr<std::string> bytes = log_.FetchEntry(index);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(*bytes);
  if (!entry.ok()) return entry.status();
  const auto* e = std::get_if<EnvelopeEntry>(&entry->body);
  if (e == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "log entry ", index, " is a ", std::string(EntryTypeName(entry->type())),
        " entry, not a message"));
  }
  absl::StatusOr<OpenedEnvelope> opened =
      OpenEnvelope(e->envelope, identity_.identity_key, keys_.prekeys());
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        absl::StrCat("cannot open message ", index, ": ",
                                     opened.status().message()));
  }
  absl::StatusOr<std::string> sender_key = MemberKey(e->sender);
  if (!sender_key.ok()) return sender_key.status();
  if (*sender_key != opened->header.sender_identity) {
    return absl::DataLossError(absl::StrCat(
        "message ", index, " is not signed by ", e->sender,
        "'s directory key; refusing to relay it"));
  }
  std::string content_type = opened->header.metadata.content_type;
  std::string plaintext = opened->payload;
  if (mode == RelayMode::kVerbatim) {
    return SealAndSend(channel, kVerbatimRelayContentType,
                       EncodeVerbatimRelay(e->envelope, opened->content_key),
                       mode, index);
  }
  // Anonymous: never pass on an author's signed envelope inside.
  if (content_type == kVerbatimRelayContentType) {
    absl::StatusOr<VerbatimRelay> inner = DecodeVerbatimRelay(plaintext);
    if (!inner.ok()) return inner.status();
    absl::StatusOr<OpenedEnvelope> original =
        OpenEnvelopeWithContentKey(inner->envelope, inner->content_key);
    if (!original.ok()) return original.status();
    content_type = original->header.metadata.content_type;
    plaintext = original->payload;
  } else if (content_type == kAnonymousRelayContentType) {
    absl::StatusOr<AnonymousRelay> inner = DecodeAnonymousRelay(plaintext);
    if (!inner.ok()) return inner.status();
    content_type = inner->content_type;
    plaintext = inner->plaintext;
  }
  return SealAndSend(channel, kAnonymousRelayContentType,
                     EncodeAnonymousRelay({index, content_type, plaintext}),
                     mode, index);
}

// ---------------------------------------------------------------------------
// Receipts

absl::StatusOr<std::vector<ReceiptView>> Device::Receipts(uint64_t index) {
  auto api = v1::Channels::NewStub(session_->channel());
  v1::ListReceiptsRequest request;
  request.set_envelope_index(index);
  v1::ListReceiptsResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->ListReceipts(c, request, &response);
  });
  if (!s.ok()) return s;
  absl::StatusOr<std::string> bytes = log_.FetchEntry(index);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(*bytes);
  if (!entry.ok()) return entry.status();
  const auto* e = std::get_if<EnvelopeEntry>(&entry->body);
  if (e == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("log entry ", index, " is not a message"));
  }
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(e->envelope);
  if (!parsed.ok()) return parsed.status();

  std::vector<ReceiptView> out;
  for (const v1::ReceiptRecord& r : response.receipts()) {
    ReceiptView view;
    view.log_index = r.log_index();
    view.recipient = r.recipient();
    if (absl::StatusOr<Receipt> raw = ParseReceipt(r.receipt()); raw.ok()) {
      view.level = std::string(ReceiptLevelName(raw->level));
      view.time = raw->time;
    }
    absl::StatusOr<std::string> key = MemberKey(r.recipient());
    if (!key.ok()) {
      view.problem = std::string(key.status().message());
    } else if (absl::StatusOr<Receipt> ok =
                   VerifyReceipt(r.receipt(), *key, parsed->hash);
               !ok.ok()) {
      view.problem = std::string(ok.status().message());
    } else if (std::none_of(parsed->header.recipients.begin(),
                            parsed->header.recipients.end(),
                            [&](const EnvelopeRecipientEntry& x) {
                              return x.identity_public_key == *key;
                            })) {
      view.problem = "the signer is not a recipient of this message";
    } else {
      view.verified = true;
    }
    out.push_back(std::move(view));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Delivery

StoredMessage Device::OpenEntry(uint64_t index, int64_t logged_at_ms,
                                const EnvelopeEntry& e) {
  StoredMessage m;
  m.index = index;
  m.logged_at_ms = logged_at_ms;
  m.channel = e.channel;
  m.sender = e.sender;
  m.relay_mode = e.relay_mode;
  m.relay_of = e.relay_of;
  m.envelope_hash = EnvelopeHash(e.envelope);
  absl::StatusOr<OpenedEnvelope> opened =
      OpenEnvelope(e.envelope, identity_.identity_key, keys_.prekeys());
  if (!opened.ok()) {
    m.error = absl::StrCat("cannot open: ", opened.status().message());
    return m;
  }
  absl::StatusOr<std::string> key = MemberKey(e.sender);
  if (key.ok() && *key != opened->header.sender_identity &&
      e.sender != identity_.name) {
    // Maybe the sender has a new key since we last looked: ask again.
    absl::StatusOr<v1::KeyBundleRecord> record =
        FetchVerifiedBundle(e.sender, nullptr);
    if (record.ok()) key = record->member().identity_key();
  }
  if (!key.ok()) {
    m.error = absl::StrCat("cannot check the sender's key: ",
                           key.status().message());
    return m;
  }
  if (*key != opened->header.sender_identity) {
    m.error = absl::StrCat("REJECTED: signed by a key that is not ", e.sender,
                           "'s directory key");
    return m;
  }
  if (opened->header.metadata.channel_id != e.channel) {
    m.error = "REJECTED: the envelope names another channel";
    return m;
  }
  m.sequence = opened->header.metadata.sequence;
  m.created_at = opened->header.metadata.created_at;
  m.content_type = opened->header.metadata.content_type;
  std::string payload = std::move(opened->payload);

  if (m.content_type == kVerbatimRelayContentType) {
    absl::StatusOr<VerbatimRelay> relay = DecodeVerbatimRelay(payload);
    if (!relay.ok()) {
      m.error = absl::StrCat("bad verbatim relay: ", relay.status().message());
      return m;
    }
    absl::StatusOr<OpenedEnvelope> original =
        OpenEnvelopeWithContentKey(relay->envelope, relay->content_key);
    if (!original.ok()) {
      m.error = absl::StrCat("the relayed original does not verify: ",
                             original.status().message());
      return m;
    }
    absl::StatusOr<std::string> author =
        MemberNameForKey(original->header.sender_identity);
    if (author.ok()) {
      m.original_sender = *author;
      m.original_verified = true;
    } else {
      absl::StatusOr<std::string> fp =
          IdentityFingerprint(original->header.sender_identity);
      m.original_sender =
          absl::StrCat("unknown key ", fp.ok() ? *fp : "?");
    }
    m.content_type = original->header.metadata.content_type;
    payload = std::move(original->payload);
  } else if (m.content_type == kAnonymousRelayContentType) {
    absl::StatusOr<AnonymousRelay> relay = DecodeAnonymousRelay(payload);
    if (!relay.ok()) {
      m.error = absl::StrCat("bad relay: ", relay.status().message());
      return m;
    }
    m.content_type = relay->content_type;
    payload = std::move(relay->plaintext);
  }
  if (m.content_type == kFileContentType) {
    absl::StatusOr<FilePayload> file = DecodeFilePayload(payload);
    if (file.ok()) {
      m.filename = file->filename;
      payload = std::move(file->data);
    }
  }
  m.body = std::move(payload);
  return m;
}

absl::Status Device::RefuseDelivery(uint64_t index,
                                    const v1::Delivery& delivery,
                                    const absl::Status& failure) {
  absl::StatusOr<std::string> kept = KeepRejectedEntry(
      profile_dir_, index, delivery.entry(), failure.message(), clock_.Now());
  return absl::DataLossError(absl::StrCat(
      failure.message(),
      ". Not skipped: this device's cursor stays before it and the next "
      "sync fetches it again; ",
      kept.ok() ? absl::StrCat("the bytes received are kept in ", *kept)
                : absl::StrCat("the bytes received could not be kept (",
                               kept.status().message(), ")"),
      ". If it fails again, tell the server's operator"));
}

absl::Status Device::HandleDelivery(
    const v1::Delivery& delivery,
    const std::function<void(const SyncEvent&)>& sink) {
  const uint64_t index = delivery.index();
  if (delivery.kind() == v1::Delivery::HEARTBEAT) {
    absl::Status s = FlushReceipts();
    return IsTransient(s) ? absl::OkStatus() : s;
  }
  if (state_.cursor().has_value() && index <= *state_.cursor()) {
    return absl::OkStatus();  // seen already (a resumed stream)
  }
  absl::StatusOr<LogEntry> entry =
      CheckDeliveredEntry(index, delivery.entry());
  if (!entry.ok()) return RefuseDelivery(index, delivery, entry.status());

  if (delivery.kind() == v1::Delivery::NOTIFICATION ||
      delivery.kind() == v1::Delivery::NOTIFICATION_ACK ||
      delivery.kind() == v1::Delivery::ESCALATION) {
    return notifications_.HandleDelivery(index, *entry, sink);  // notifications
  }
  if (const auto* e = std::get_if<EnvelopeEntry>(&entry->body)) {
    if (state_.HasMessage(index)) {
      // Stored before a crash, cursor not yet moved: already shown.
      return state_.CommitDelivery(index, std::nullopt, std::nullopt);
    }
    StoredMessage message = OpenEntry(index, entry->logged_at_ms, *e);
    std::optional<PendingReceipt> receipt;
    if (message.error.empty() && e->sender != identity_.name) {
      absl::StatusOr<std::string> signed_receipt =
          SignReceipt(keys_.identity(), message.envelope_hash,
                      ReceiptLevel::kDelivered, clock_.Now());
      if (!signed_receipt.ok()) return signed_receipt.status();
      receipt = PendingReceipt{index, *std::move(signed_receipt)};
    }
    if (absl::Status s = state_.CommitDelivery(index, message, receipt);
        !s.ok()) {
      return s;
    }
    SyncEvent event = MakeEvent(SyncEvent::Kind::kMessage, index);
    event.message = std::move(message);
    sink(event);
    if (state_.pending_receipts().size() >= kReceiptBatch) {
      absl::Status s = FlushReceipts();
      if (!s.ok() && !IsTransient(s)) return s;
    }
    return absl::OkStatus();
  }

  if (const auto* r = std::get_if<ReceiptEntry>(&entry->body)) {
    SyncEvent event = MakeEvent(SyncEvent::Kind::kReceipt, index);
    event.envelope_index = r->envelope_index;
    event.receipt.log_index = index;
    event.receipt.recipient = r->recipient;
    // What the receipt is for: a message, or a notification version
    // (stored by NotificationClient::HandleDelivery, not with the messages).
    std::string envelope_hash;
    std::string not_signer;  // why the signer may not sign it
    absl::StatusOr<std::optional<StoredMessage>> original =
        state_.FindMessage(r->envelope_index);
    if (original.ok() && original->has_value()) {
      envelope_hash = (*original)->envelope_hash;
    } else {
      absl::StatusOr<
          const std::map<uint64_t, NotificationClient::KnownVersion>*>
          known = notifications_.KnownVersions();
      if (!known.ok()) return known.status();
      auto it = (*known)->find(r->envelope_index);
      if (it != (*known)->end()) {
        envelope_hash = it->second.envelope_hash;
        event.notification_id = it->second.id;
        event.channel = NotificationChannel(it->second.id);
        if (std::find(it->second.parties.begin(), it->second.parties.end(),
                      r->recipient) == it->second.parties.end()) {
          not_signer = "the signer is not a party to this notification";
        }
      }
    }
    if (envelope_hash.empty()) {
      // A notification version this device did not store (e.g. logged
      // before it enrolled): read it from the log, verified.
      absl::StatusOr<std::string> bytes = log_.FetchEntry(r->envelope_index);
      absl::StatusOr<LogEntry> logged =
          bytes.ok() ? DecodeLogEntry(*bytes)
                     : absl::StatusOr<LogEntry>(bytes.status());
      const NotificationVersion* v =
          logged.ok() ? std::get_if<NotificationVersion>(&logged->body)
                      : nullptr;
      if (v != nullptr) {
        envelope_hash = EnvelopeHash(v->envelope);
        event.notification_id = v->id;
        event.channel = NotificationChannel(v->id);
        if (std::find(v->parties.begin(), v->parties.end(), r->recipient) ==
            v->parties.end()) {
          not_signer = "the signer is not a party to this notification";
        }
      }
    }
    absl::StatusOr<std::string> key = MemberKey(r->recipient);
    if (envelope_hash.empty()) {
      event.receipt.problem = "the message is not in the local cache";
    } else if (!key.ok()) {
      event.receipt.problem = std::string(key.status().message());
    } else if (!not_signer.empty()) {
      event.receipt.problem = not_signer;
    } else if (absl::StatusOr<Receipt> v = VerifyReceipt(
                   r->receipt, *key, envelope_hash);
               !v.ok()) {
      event.receipt.problem = std::string(v.status().message());
    } else {
      event.receipt.verified = true;
      event.receipt.level = std::string(ReceiptLevelName(v->level));
      event.receipt.time = v->time;
    }
    if (absl::Status s = state_.CommitDelivery(index, std::nullopt,
                                               std::nullopt);
        !s.ok()) {
      return s;
    }
    sink(event);
    return absl::OkStatus();
  }

  SyncEvent event = MakeEvent(SyncEvent::Kind::kChannel, index);
  if (const auto* c = std::get_if<ChannelCreated>(&entry->body)) {
    event.channel = c->channel;
    event.members = c->members;
    event.text = absl::StrCat(c->created_by, " created the channel");
  } else if (const auto* c = std::get_if<ChannelMembersChanged>(&entry->body)) {
    event.channel = c->channel;
    event.members = c->members;
    event.text = absl::StrCat(c->changed_by, " changed the members");
  } else if (const auto* k = std::get_if<KeyBundlePublished>(&entry->body)) {
    event.kind = SyncEvent::Kind::kWarning;
    event.text = absl::StrCat(k->name, " published a new key bundle");
  } else {
    event.kind = SyncEvent::Kind::kWarning;
    event.text = absl::StrCat("log entry ", index, " (",
                              std::string(EntryTypeName(entry->type())), ")");
  }
  if (absl::Status s = state_.CommitDelivery(index, std::nullopt, std::nullopt);
      !s.ok()) {
    return s;
  }
  sink(event);
  return absl::OkStatus();
}

absl::Status Device::SyncOnce(const SyncOptions& options, absl::Time deadline,
                              const std::function<void(const SyncEvent&)>& sink,
                              bool* received_any) {
  grpc::ClientContext context;
  if (absl::Status s = auth_.Authorize(&context); !s.ok()) return s;
  if (deadline != absl::InfiniteFuture()) {
    context.set_deadline(absl::ToChronoTime(deadline));
  }
  v1::SubscribeRequest request;
  request.set_cursor(state_.cursor().value_or(0));
  request.set_from_start(!state_.cursor().has_value());
  auto api = v1::Channels::NewStub(session_->channel());
  std::unique_ptr<grpc::ClientReader<v1::Delivery>> reader =
      api->Subscribe(&context, request);

  // A watchdog cancels the stream when asked to stop, or once caught up.
  absl::Mutex mu;
  bool done = false;
  bool busy = false;
  bool cancelled_by_us = false;
  absl::Time last_activity = clock_.Now();
  std::thread watchdog([&] {
    absl::MutexLock lock(&mu);
    while (!done) {
      mu.AwaitWithTimeout(absl::Condition(&done), absl::Milliseconds(50));
      if (done) break;
      const bool idle = options.until_caught_up && !busy &&
                        absl::Now() - last_activity >= options.idle;
      if (stop_.load() || idle) {
        cancelled_by_us = true;
        context.TryCancel();
        break;
      }
    }
  });

  absl::Status handled;
  v1::Delivery delivery;
  while (reader->Read(&delivery)) {
    {
      absl::MutexLock lock(&mu);
      busy = true;
    }
    *received_any = true;
    handled = HandleDelivery(delivery, sink);
    {
      absl::MutexLock lock(&mu);
      busy = false;
      last_activity = absl::Now();
    }
    if (!handled.ok()) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  {
    absl::MutexLock lock(&mu);
    done = true;
  }
  watchdog.join();
  if (!handled.ok()) return handled;
  if (cancelled_by_us) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      absl::Now() >= deadline) {
    return absl::OkStatus();
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    auth_.Invalidate();
  }
  if (status.ok()) {
    // The server ended the stream (e.g. a slow consumer): resumable.
    return absl::UnavailableError("the server ended the stream; resuming");
  }
  return FromRpcStatus(status, session_->pin().address);
}

absl::Status Device::Sync(const SyncOptions& options,
                          const std::function<void(const SyncEvent&)>& sink) {
  const absl::Time deadline = options.wait > absl::ZeroDuration()
                                  ? absl::Now() + options.wait
                                  : absl::InfiniteFuture();
  Backoff backoff(absl::Milliseconds(500), absl::Seconds(15), random_);
  bool reauthenticated = false;
  for (;;) {
    if (options.follow) {
      // watch: queued work goes out as soon as the server is back.
      if (absl::Status f = outbox_.Flush(); !f.ok() && !IsTransient(f)) {
        return f;
      }
    }
    bool received_any = false;
    absl::Status s = SyncOnce(options, deadline, sink, &received_any);
    if (absl::Status f = FlushReceipts(); !f.ok() && !IsTransient(f)) {
      warnings_.push_back(absl::StrCat("receipts: ", f.message()));
    }
    if (stop_.load()) return absl::OkStatus();
    if (s.ok() && !options.follow) return s;
    if (absl::IsUnauthenticated(s) && !reauthenticated) {
      reauthenticated = true;  // token expired mid-stream: once, at once
      continue;
    }
    if (!options.follow) {
      // inbox: a stream the server ended is resumed while time remains.
      if (absl::IsUnavailable(s) && received_any && absl::Now() < deadline) {
        continue;
      }
      return s;
    }
    if (!s.ok() && !IsRetryable(s)) return s;
    if (absl::Now() >= deadline) return absl::OkStatus();
    if (received_any) {
      backoff.Reset();
      reauthenticated = false;
    } else if (!s.ok()) {
      session_->ResetChannel();
    }
    const absl::Duration sleep = backoff.Next();
    SyncEvent notice = MakeEvent(SyncEvent::Kind::kWarning,
                                 state_.cursor().value_or(0));
    notice.text = absl::StrCat(
        s.ok() ? "stream ended" : std::string(s.message()), "; retrying in ",
        absl::FormatDuration(absl::Trunc(sleep, absl::Milliseconds(100))));
    sink(notice);
    SleepUnlessStopped(clock_, sleep, stop_);
  }
}

}  // namespace parley
