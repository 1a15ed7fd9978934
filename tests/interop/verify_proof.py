#!/usr/bin/env python3
"""Independent verifier for Parley proof bundles (parley-proof/v1).

Written from docs/PROTOCOL.md (sections 2-8, 11, 12, 13.1 and 16) and the
public specifications it cites (c2sp.org/signed-note, tlog-checkpoint,
tlog-proof, RFC 9162), without reading Parley's implementation. It exists to
show that the document is enough for a third party to check a bundle.

Dependencies: Python 3 standard library and python3-cryptography (Ed25519).

Usage: verify_proof.py BUNDLE.json [--verifier-key KEY] [--quiet]
Exit status: 0 if the bundle verifies, 1 if it does not (the reason is
printed on stderr), 2 on a usage error or a missing dependency.
"""

import base64
import binascii
import datetime
import hashlib
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PublicKey,
    )
except ImportError:  # pragma: no cover - reported as a usage error
    sys.stderr.write(
        "verify_proof.py: python3-cryptography is required "
        "(Debian: apt-get install python3-cryptography)\n")
    sys.exit(2)


class VerifyError(Exception):
    """The bundle does not verify; the message says why."""


def fail(msg):
    raise VerifyError(msg)


# --------------------------------------------------------------------------
# Encodings (PROTOCOL.md section 2, 11)

def b64_canonical(text, what, length=None):
    """Standard padded base64 (RFC 4648 section 4), canonical."""
    if not isinstance(text, str):
        fail(f"{what}: not a string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        fail(f"{what}: invalid base64")
    if base64.b64encode(raw).decode("ascii") != text:
        fail(f"{what}: non-canonical base64")
    if length is not None and len(raw) != length:
        fail(f"{what}: {len(raw)} bytes, expected {length}")
    return raw


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


def sha256(data):
    return hashlib.sha256(data).digest()


def ed25519_verify(public_key, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def signing_input(tag, body):
    """Section 3: an Ed25519 signature with tag T over body B signs
    T || 0x00 || B."""
    return tag.encode("ascii") + b"\x00" + body


class Reader:
    """Strict big-endian reader (section 2)."""

    def __init__(self, data, what):
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            fail(f"{self.what}: truncated at byte {self.pos} "
                 f"(wanted {n} more of {len(self.data)})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, width):
        return int.from_bytes(self.take(width), "big")

    def u8(self):
        return self.uint(1)

    def u16(self):
        return self.uint(2)

    def u32(self):
        return self.uint(4)

    def u64(self):
        return self.uint(8)

    def vec(self, width):
        """bytes8/bytes16/bytes32 (section 12) or vec8 (section 2): a
        big-endian length of `width` bytes, then that many bytes."""
        return self.take(self.uint(width))

    def done(self):
        if self.pos != len(self.data):
            fail(f"{self.what}: {len(self.data) - self.pos} trailing bytes")

    def remaining(self):
        return len(self.data) - self.pos


# --------------------------------------------------------------------------
# Identity fingerprints (section 3 derivations, section 4)

def blake2b_tagged(tag, key, data, n):
    person = tag.encode("ascii").ljust(16, b"\x00")
    return hashlib.blake2b(data, digest_size=n, key=key, salt=b"\x00" * 16,
                           person=person).digest()


def fingerprint(identity_key):
    d = blake2b_tagged("parley/v1/fpr", b"", identity_key, 64)
    groups = []
    for g in range(12):
        v = int.from_bytes(d[5 * g:5 * g + 5], "big") % 100000
        groups.append(f"{v:05d}")
    return " ".join(groups)


# --------------------------------------------------------------------------
# Signed prekeys and key bundles (section 5)

PREKEY_LEN = 119
MAX_PREKEY_LIFETIME = 604800
CLOCK_SKEW = 300

SMALL_ORDER = {
    bytes(32),
    b"\x01" + bytes(31),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
}


def acceptable_x25519(key):
    if len(key) != 32:
        return False
    if key[31] & 0x80:
        return False
    if int.from_bytes(key, "little") >= 2 ** 255 - 19:
        return False
    return key not in SMALL_ORDER


def check_time(v, what):
    if v > 2 ** 63 - 1:
        fail(f"{what}: time above 2^63 - 1")
    return v


def parse_prekey(data, identity_key, kind_expected, what):
    """Section 5.1; verified at its own created_at (section 16.3 step 4)."""
    if len(data) != PREKEY_LEN:
        fail(f"{what}: prekey of {len(data)} bytes, expected 119")
    r = Reader(data, what)
    if r.u8() != 0x01 or r.u8() != 0x01:
        fail(f"{what}: not a version 1 signed prekey")
    kind = r.u8()
    if kind != kind_expected:
        fail(f"{what}: prekey kind {kind}, expected {kind_expected}")
    key_id = r.u32()
    if key_id == 0:
        fail(f"{what}: prekey key_id 0")
    public_key = r.take(32)
    if not acceptable_x25519(public_key):
        fail(f"{what}: prekey public key is not an acceptable X25519 key")
    created_at = check_time(r.u64(), what)
    expires_at = check_time(r.u64(), what)
    if not (created_at < expires_at <= created_at + MAX_PREKEY_LIFETIME):
        fail(f"{what}: prekey lifetime out of range")
    sig = r.take(64)
    r.done()
    if not ed25519_verify(identity_key, sig,
                          signing_input("parley/v1/prekey", data[:55])):
        fail(f"{what}: prekey signature does not verify under the bundle's "
             "identity key")
    return {"kind": kind, "key_id": key_id, "created_at": created_at,
            "expires_at": expires_at}


def parse_key_bundle(data, what):
    """Section 5.2."""
    r = Reader(data, what)
    if r.u8() != 0x01 or r.u8() != 0x02:
        fail(f"{what}: not a version 1 key bundle")
    identity_key = r.take(32)
    parse_prekey(r.take(PREKEY_LEN), identity_key, 1,
                 what + " signed prekey")
    count = r.u16()
    if count > 100:
        fail(f"{what}: {count} one-time prekeys (at most 100)")
    ids = set()
    for i in range(count):
        pk = parse_prekey(r.take(PREKEY_LEN), identity_key, 2,
                          f"{what} one-time prekey {i}")
        if pk["key_id"] in ids:
            fail(f"{what}: duplicate one-time prekey id {pk['key_id']}")
        ids.add(pk["key_id"])
    r.done()
    return identity_key


# --------------------------------------------------------------------------
# Envelopes (section 6) and receipts (section 8)

def is_content_type(ct):
    return 1 <= len(ct) <= 127 and all(0x21 <= c <= 0x7E for c in ct)


def parse_envelope(data, what):
    """Section 6.1, strictly; verifies the sender's signature."""
    r = Reader(data, what)
    if r.u8() != 0x01 or r.u8() != 0x03:
        fail(f"{what}: not a version 1 envelope")
    channel = r.vec(1)
    if not 1 <= len(channel) <= 255:
        fail(f"{what}: empty channel id")
    sender = r.take(32)
    client_message_id = r.take(16)
    sequence = r.u64()
    previous_hash = r.take(32)
    if (sequence == 0) != (previous_hash == bytes(32)):
        fail(f"{what}: previous_hash must be all zero iff sequence = 0")
    created_at = check_time(r.u64(), what)
    content_type = r.vec(1)
    if not is_content_type(content_type):
        fail(f"{what}: invalid content type")
    ephemeral = r.take(32)
    if not acceptable_x25519(ephemeral):
        fail(f"{what}: ephemeral key is not an acceptable X25519 key")
    r.take(24)  # payload nonce
    r.take(32)  # key commitment
    count = r.u16()
    if not 1 <= count <= 256:
        fail(f"{what}: recipient count {count} out of 1..256")
    recipients = []
    for _ in range(count):
        rid = r.take(32)
        spk = r.u32()
        r.u32()  # one-time prekey id, 0 = none
        if spk == 0:
            fail(f"{what}: recipient with signed_prekey_id 0")
        if rid in recipients:
            fail(f"{what}: duplicate recipient")
        recipients.append(rid)
    r.take(48 * count)  # wrapped keys
    clen = r.u32()
    p = clen - 16
    if not is_bucket(p):
        fail(f"{what}: ciphertext length {clen} is not a padding bucket + 16")
    r.take(clen)
    body_end = r.pos
    sig = r.take(64)
    r.done()
    if not ed25519_verify(sender, sig,
                          signing_input("parley/v1/envelope",
                                        data[:body_end])):
        fail(f"{what}: envelope signature does not verify under its "
             "sender_identity")
    return {"channel": channel, "sender": sender, "sequence": sequence,
            "previous_hash": previous_hash, "created_at": created_at,
            "content_type": content_type.decode("ascii"),
            "recipients": recipients, "hash": sha256(data),
            "client_message_id": client_message_id}


def is_bucket(p):
    """Section 7: 256, 512, ..., 1 MiB, then multiples of 1 MiB, for
    payloads up to 16 MiB - 1 (so at most a 16 MiB bucket)."""
    mib = 1 << 20
    if p < 256:
        return False
    if p <= mib:
        return p & (p - 1) == 0
    return p % mib == 0 and p <= 16 * mib


RECEIPT_LEVELS = {1: "delivered", 2: "acknowledged", 3: "objected"}


def parse_receipt(data, what):
    """Section 8; verifies the signature under recipient_identity."""
    r = Reader(data, what)
    if r.u8() != 0x01 or r.u8() != 0x04:
        fail(f"{what}: not a version 1 receipt")
    level = r.u8()
    if level not in RECEIPT_LEVELS:
        fail(f"{what}: unknown receipt level {level}")
    envelope_hash = r.take(32)
    recipient = r.take(32)
    time = check_time(r.u64(), what)
    reason_hash = r.take(32) if level == 3 else None
    body_end = r.pos
    sig = r.take(64)
    r.done()
    if not ed25519_verify(recipient, sig,
                          signing_input("parley/v1/receipt",
                                        data[:body_end])):
        fail(f"{what}: receipt signature does not verify under its "
             "recipient_identity")
    return {"level": level, "envelope_hash": envelope_hash,
            "recipient": recipient, "time": time, "reason_hash": reason_hash}


# --------------------------------------------------------------------------
# Log entries (section 12)

ENTRY_TYPES = {
    1: "invite-created",
    2: "member-registered",
    3: "key-bundle-published",
    4: "member-revoked",
    5: "channel-created",
    6: "channel-members-changed",
    7: "envelope",
    8: "receipt",
    9: "notification",
    10: "notification-ack",
    11: "escalation",
    12: "notification-cancelled",
    13: "notification-status",
}

ROLES = {1: "admin", 2: "mediator", 3: "coordinator", 4: "party",
         5: "observer"}

# Section 12, escalation `step`: 1-3 are a party's acknowledge-by ladder,
# 4 is a site's review-by falling due (party = the issuer, deadline = the
# review-by date; section 15.3).
ESCALATION_STEPS = {1: "reminder", 2: "escalation",
                    3: "second escalation", 4: "review due"}
REVIEW_DUE = 4

MAX_NAMES = 1000


def name_of(raw):
    """Names are compared byte for byte. Decoders do not re-check the name
    syntax of section 12 (the server enforces it when a name is chosen)."""
    return raw.decode("utf-8", "surrogateescape")


def raw_name(name):
    return name.encode("utf-8", "surrogateescape")


def vec_encode(width, raw):
    return len(raw).to_bytes(width, "big") + raw


def names_of(r, what):
    count = r.u16()
    if count > MAX_NAMES:
        fail(f"{what}: {count} names (at most {MAX_NAMES})")
    return [name_of(r.vec(1)) for _ in range(count)]


def read_role(r, what):
    role = r.u8()
    if role not in ROLES:
        fail(f"{what}: unknown role {role}")
    return role


def parse_entry(data, what):
    r = Reader(data, what)
    if r.u8() != 0x01:
        fail(f"{what}: unknown entry version")
    etype = r.u8()
    if etype not in ENTRY_TYPES:
        fail(f"{what}: unknown entry type {etype}")
    e = {"type": etype, "kind": ENTRY_TYPES[etype],
         "logged_at_ms": r.u64()}
    if etype == 1:
        e["invite_hash"] = r.take(32)
        e["role"] = read_role(r, what)
        e["name"] = name_of(r.vec(1))
        e["organisation"] = name_of(r.vec(1))
        e["expires_at"] = r.u64()
        e["created_by"] = name_of(r.vec(1))
    elif etype == 2:
        e["name"] = name_of(r.vec(1))
        e["role"] = read_role(r, what)
        e["organisation"] = name_of(r.vec(1))
        e["invite_hash"] = r.take(32)
        e["key_bundle"] = r.vec(4)
        e["signature"] = r.take(64)
    elif etype == 3:
        e["name"] = name_of(r.vec(1))
        e["key_bundle"] = r.vec(4)
        e["signature"] = r.take(64)
    elif etype == 4:
        e["name"] = name_of(r.vec(1))
        e["revoked_by"] = name_of(r.vec(1))
        e["reason"] = r.vec(2)
    elif etype in (5, 6):
        e["channel"] = name_of(r.vec(1))
        e["by"] = name_of(r.vec(1))
        e["members"] = names_of(r, what)
    elif etype == 7:
        e["channel"] = name_of(r.vec(1))
        e["sender"] = name_of(r.vec(1))
        e["relay_mode"] = r.u8()
        if e["relay_mode"] not in (0, 1, 2):
            fail(f"{what}: unknown relay mode")
        e["relay_of"] = r.u64()
        e["envelope"] = r.vec(4)
    elif etype == 8:
        e["envelope_index"] = r.u64()
        e["recipient"] = name_of(r.vec(1))
        e["receipt"] = r.vec(4)
    elif etype == 9:
        e["id"] = name_of(r.vec(1))
        e["version"] = r.u32()
        e["nkind"] = r.u8()
        if e["nkind"] not in (1, 2):
            fail(f"{what}: unknown notification kind {e['nkind']}")
        e["issuer"] = name_of(r.vec(1))
        e["parties"] = names_of(r, what)
        e["depart_at"] = r.u64()
        e["ack_by"] = r.u64()
        e["valid_from"] = r.u64()
        e["valid_until"] = r.u64()
        e["flags"] = r.u8()
        e["required_lead_seconds"] = r.u64()
        e["envelope"] = r.vec(4)
    elif etype == 10:
        e["id"] = name_of(r.vec(1))
        e["version"] = r.u32()
        e["party"] = name_of(r.vec(1))
        e["receipt"] = r.vec(4)
        e["reason_envelope"] = r.vec(4)
    elif etype == 11:
        e["id"] = name_of(r.vec(1))
        e["version"] = r.u32()
        e["party"] = name_of(r.vec(1))
        e["step"] = r.u8()
        if e["step"] not in ESCALATION_STEPS:
            fail(f"{what}: unknown escalation step {e['step']}")
        e["deadline"] = r.u64()
        # Section 12: an optional 16-byte salt ends the entry (absent in
        # entries written before it existed); any other tail is trailing.
        if r.remaining() == 16:
            e["salt"] = r.take(16)
    elif etype == 12:
        e["id"] = name_of(r.vec(1))
        e["version"] = r.u32()
        e["cancelled_by"] = name_of(r.vec(1))
        e["reason_envelope"] = r.vec(4)
    elif etype == 13:
        e["id"] = name_of(r.vec(1))
        e["version"] = r.u32()
        e["posted_by"] = name_of(r.vec(1))
        e["final"] = r.u8()
        if e["final"] not in (0, 1):
            fail(f"{what}: final must be 0 or 1")
        e["envelope"] = r.vec(4)
    r.done()
    return e


# --------------------------------------------------------------------------
# Signed notes, verifier keys, checkpoints, tlog-proofs (section 11)

EM_DASH = "\u2014"


def key_id(name, public_key):
    return sha256(name.encode("utf-8") + b"\n\x01" + public_key)[:4]


def check_key_name(name, what):
    if not name or "+" in name or any(c.isspace() for c in name):
        fail(f"{what}: invalid key name {name!r}")


def parse_verifier_key(vkey):
    """Section 11.5: <name>+<8 hex key id>+<base64(0x01 || key)>."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        fail("verifier_key: expected name+keyid+key")
    name, hex_id, key_b64 = parts
    check_key_name(name, "verifier_key")
    if len(hex_id) != 8 or hex_id != hex_id.lower() or \
            any(c not in "0123456789abcdef" for c in hex_id):
        fail("verifier_key: key id is not 8 lower-case hex digits")
    raw = b64_canonical(key_b64, "verifier_key key")
    if len(raw) != 33 or raw[0] != 0x01:
        fail("verifier_key: not an Ed25519 (type 0x01) 32-byte key")
    public_key = raw[1:]
    if key_id(name, public_key).hex() != hex_id:
        fail("verifier_key: key id does not match the name and key")
    return name, public_key


def verify_note(note, name, public_key):
    """Section 11.4 / c2sp.org/signed-note. Returns the note text."""
    if not isinstance(note, str):
        fail("checkpoint: not a string")
    split = note.rfind("\n\n")
    if split < 0:
        fail("signed note: no empty line before the signatures")
    text = note[:split + 1]
    sigs = note[split + 2:]
    for ch in text:
        if ch != "\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            fail("signed note: control character in the text")
    if not sigs.endswith("\n"):
        fail("signed note: signature block does not end in a newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > 100:
        fail("signed note: more than 100 signatures")
    want_id = key_id(name, public_key)
    verified = False
    for line in lines:
        if not line.startswith(EM_DASH + " "):
            fail(f"signed note: malformed signature line {line!r}")
        rest = line[2:].split(" ")
        if len(rest) != 2:
            fail(f"signed note: malformed signature line {line!r}")
        lname, sig_b64 = rest
        check_key_name(lname, "signed note signature")
        raw = b64_canonical(sig_b64, "signed note signature")
        if len(raw) < 5:
            fail("signed note: signature too short")
        if lname != name or raw[:4] != want_id:
            continue  # unknown key: ignored
        if len(raw) != 68:
            fail("signed note: Ed25519 signature is not 64 bytes")
        if not ed25519_verify(public_key, raw[4:], text.encode("utf-8")):
            fail("checkpoint signature does not verify under the "
                 "verifier key")
        verified = True
    if not verified:
        fail("signed note: no signature by the verifier key")
    return text


def parse_checkpoint_body(text):
    """Section 11.3 / c2sp.org/tlog-checkpoint."""
    lines = text.split("\n")
    # text ends in "\n", so the last element is empty
    if len(lines) < 4 or lines[-1] != "":
        fail("checkpoint: fewer than three lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    for ext in lines[3:-1]:
        if ext == "":
            fail("checkpoint: empty extension line")
    if not size_s.isdigit() or not size_s.isascii() or \
            (size_s != "0" and size_s.startswith("0")):
        fail("checkpoint: invalid tree size")
    root = b64_canonical(root_s, "checkpoint root", 32)
    return origin, int(size_s), root


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def verify_inclusion(index, size, lh, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        fail(f"inclusion: index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, lh
    for p in proof:
        if len(p) != 32:
            fail("inclusion: proof hash is not 32 bytes")
        if sn == 0:
            fail("inclusion: proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("inclusion: proof is shorter than the path")
    if r != root:
        fail("inclusion: computed root differs from the checkpoint's root")


def parse_tlog_proof(text, what):
    """Section 11.9 / c2sp.org/tlog-proof@v1. Returns (index, hashes,
    checkpoint note)."""
    if not isinstance(text, str):
        fail(f"{what}: tlog_proof is not a string")
    header = "c2sp.org/tlog-proof@v1\n"
    if not text.startswith(header):
        fail(f"{what}: tlog_proof header line missing")
    rest = text[len(header):]
    end = rest.find("\n\n")
    if end < 0:
        fail(f"{what}: tlog_proof has no empty line before the checkpoint")
    lines = rest[:end].split("\n")
    note = rest[end + 2:]
    if lines and lines[0].startswith("extra "):
        fail(f"{what}: tlog_proof has an extra line (not allowed in a "
             "bundle)")
    if not lines or not lines[0].startswith("index "):
        fail(f"{what}: tlog_proof index line missing")
    idx_s = lines[0][len("index "):]
    if not idx_s.isascii() or not idx_s.isdigit() or \
            (idx_s != "0" and idx_s.startswith("0")):
        fail(f"{what}: tlog_proof index is not canonical decimal")
    hashes = [b64_canonical(h, f"{what} tlog_proof hash", 32)
              for h in lines[1:]]
    return int(idx_s), hashes, note


# --------------------------------------------------------------------------
# The bundle (section 16)

def strict_json(text):
    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                fail(f"JSON: duplicate member {k!r}")
            obj[k] = v
        return obj

    def bad_constant(c):
        fail(f"JSON: {c} is not allowed")

    try:
        return json.loads(text, object_pairs_hook=pairs,
                          parse_constant=bad_constant,
                          parse_float=lambda s: fail("JSON: non-integer "
                                                     f"number {s}"))
    except json.JSONDecodeError as e:
        fail(f"JSON: {e}")


def members(obj, names, what):
    if not isinstance(obj, dict):
        fail(f"{what}: not an object")
    got = set(obj)
    if got != set(names):
        extra = sorted(got - set(names))
        missing = sorted(set(names) - got)
        fail(f"{what}: unknown members {extra} / missing members {missing}")


def want_type(value, typ, what):
    if typ is int:
        if type(value) is not int or value < 0:
            fail(f"{what}: not a non-negative integer")
    elif not isinstance(value, typ):
        fail(f"{what}: wrong type")
    return value


def iso_ms(ms):
    try:
        t = datetime.datetime.fromtimestamp(ms // 1000,
                                            datetime.timezone.utc)
    except (OverflowError, ValueError, OSError):
        return f"{ms} ms after the Unix epoch"
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_s(s):
    if s == 0:
        return "none"
    try:
        t = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
    except (OverflowError, ValueError, OSError):
        return f"{s} s after the Unix epoch"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def verify_bundle(raw_bytes, known_key=None):
    # RFC 8259 section 8.1: a parser MAY ignore a leading byte order mark;
    # the reference verifier does, so this one does too.
    if raw_bytes.startswith(b"\xef\xbb\xbf"):
        raw_bytes = raw_bytes[3:]
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        fail("bundle is not valid UTF-8")
    bundle = strict_json(text)
    try:  # "\ud800" escapes decode to lone surrogates: not UTF-8 text
        json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        fail("JSON: a string holds a lone surrogate")
    members(bundle, ["format", "verifier_key", "checkpoint", "entries",
                     "identities"], "bundle")
    if bundle["format"] != "parley-proof/v1":
        fail(f"format is {bundle['format']!r}, not parley-proof/v1")
    vkey = want_type(bundle["verifier_key"], str, "verifier_key")
    checkpoint = want_type(bundle["checkpoint"], str, "checkpoint")
    entries_json = want_type(bundle["entries"], list, "entries")
    identities_json = want_type(bundle["identities"], list, "identities")
    if not entries_json:
        fail("entries: empty")

    # Step 2: verifier key and checkpoint.
    if known_key is not None and vkey != known_key:
        fail("verifier_key differs from the key given with --verifier-key")
    log_name, log_key = parse_verifier_key(vkey)
    cp_text = verify_note(checkpoint, log_name, log_key)
    origin, size, root = parse_checkpoint_body(cp_text)
    if origin != log_name:
        fail(f"checkpoint origin {origin!r} differs from the key name "
             f"{log_name!r}")

    # Step 3: entries and their inclusion proofs.
    entries = {}
    order = []
    prev = -1
    for n, ej in enumerate(entries_json):
        what = f"entries[{n}]"
        members(ej, ["kind", "index", "leaf", "tlog_proof"], what)
        kind = want_type(ej["kind"], str, what + ".kind")
        index = want_type(ej["index"], int, what + ".index")
        if index <= prev:
            fail(f"{what}: index {index} does not exceed {prev}")
        prev = index
        what = f"entry {index}"
        leaf = b64_canonical(ej["leaf"], what + " leaf")
        pidx, hashes, note = parse_tlog_proof(ej["tlog_proof"], what)
        if pidx != index:
            fail(f"{what}: tlog_proof index {pidx} differs")
        if note != checkpoint:
            fail(f"{what}: tlog_proof checkpoint differs from the bundle's")
        verify_inclusion(index, size, leaf_hash(leaf), hashes, root)
        e = parse_entry(leaf, what)
        if e["kind"] != kind:
            fail(f"{what}: kind {kind!r} but the leaf is {e['kind']!r}")
        e["index"] = index
        entries[index] = e
        order.append(index)

    # Step 4: registrations.
    for i in order:
        e = entries[i]
        what = f"entry {i} ({e['kind']})"
        if e["type"] == 2:
            ik = parse_key_bundle(e["key_bundle"], what + " key bundle")
            body = (e["invite_hash"] + vec_encode(1, raw_name(e["name"])) +
                    vec_encode(4, e["key_bundle"]))
            if not ed25519_verify(ik, e["signature"],
                                  signing_input("parley/v1/enroll", body)):
                fail(f"{what}: enroll signature does not verify")
            e["identity_key"] = ik
        elif e["type"] == 3:
            ik = parse_key_bundle(e["key_bundle"], what + " key bundle")
            body = (vec_encode(1, raw_name(e["name"])) +
                    vec_encode(4, e["key_bundle"]))
            if not ed25519_verify(ik, e["signature"],
                                  signing_input("parley/v1/rotate", body)):
                fail(f"{what}: rotate signature does not verify")
            e["identity_key"] = ik

    # Step 5: identities.
    identities = []
    prev = -1
    for n, ij in enumerate(identities_json):
        what = f"identities[{n}]"
        members(ij, ["name", "role", "identity_key", "registration_index"],
                what)
        name = want_type(ij["name"], str, what + ".name")
        role = want_type(ij["role"], str, what + ".role")
        ikey = b64_canonical(ij["identity_key"], what + ".identity_key", 32)
        ri = want_type(ij["registration_index"], int,
                       what + ".registration_index")
        if ri <= prev:
            fail(f"{what}: registration_index not strictly increasing")
        prev = ri
        if role not in ROLES.values():
            fail(f"{what}: unknown role {role!r}")
        reg = entries.get(ri)
        if reg is None or reg["type"] not in (2, 3) or reg["name"] != name:
            fail(f"{what}: entry {ri} is not a registration of {name!r} in "
                 "this bundle")
        if reg["identity_key"] != ikey:
            fail(f"{what}: identity_key differs from the key registered at "
                 f"entry {ri}")
        if reg["type"] == 2:
            first = reg
        else:
            first = None
            for j in order:
                if j < ri and entries[j]["type"] == 2 and \
                        entries[j]["name"] == name:
                    first = entries[j]
            if first is None:
                fail(f"{what}: no member-registered entry for {name!r} "
                     "before the key-bundle-published entry")
        if ROLES[first["role"]] != role:
            fail(f"{what}: role {role!r} but registered as "
                 f"{ROLES[first['role']]!r}")
        identities.append({"name": name, "role": role, "key": ikey,
                           "index": ri, "organisation":
                           first["organisation"]})

    def signer_key(name, at, what):
        best = None
        for ident in identities:
            if ident["name"] == name and ident["index"] < at:
                best = ident
        if best is None:
            fail(f"{what}: no registered key for {name!r} before entry {at}")
        return best["key"]

    def envelope_of(e, signer, what):
        env = parse_envelope(e["envelope"], what + " envelope")
        key = signer_key(signer, e["index"], what)
        if env["sender"] != key:
            fail(f"{what}: envelope sender is not the registered key of "
                 f"{signer!r}")
        return env

    # Step 6: signatures, by type.
    versions = {}
    for i in order:
        e = entries[i]
        what = f"entry {i} ({e['kind']})"
        t = e["type"]
        if t == 7:
            e["env"] = envelope_of(e, e["sender"], what)
        elif t == 9:
            env = envelope_of(e, e["issuer"], what)
            e["env"] = env
            if env["channel"] != b"n/" + raw_name(e["id"]):
                fail(f"{what}: envelope channel {env['channel']!r} is not "
                     f"n/{e['id']}")
            if e["version"] < 1 or env["sequence"] != e["version"] - 1:
                fail(f"{what}: envelope sequence {env['sequence']} for "
                     f"version {e['version']}")
            key = (e["id"], e["version"])
            if key in versions:
                fail(f"{what}: notification {key} appears twice")
            if e["version"] > 1:
                prev_v = versions.get((e["id"], e["version"] - 1))
                if prev_v is None:
                    fail(f"{what}: version {e['version'] - 1} is not in the "
                         "bundle")
                if env["previous_hash"] != prev_v["env"]["hash"]:
                    fail(f"{what}: previous_hash is not the envelope hash of "
                         "the previous version")
            versions[key] = e
        elif t == 8:
            target = entries.get(e["envelope_index"])
            if target is None or target["index"] >= i or \
                    target["type"] not in (7, 9):
                fail(f"{what}: envelope entry {e['envelope_index']} is not "
                     "in the bundle before it")
            rc = parse_receipt(e["receipt"], what + " receipt")
            key = signer_key(e["recipient"], i, what)
            if rc["recipient"] != key:
                fail(f"{what}: receipt is not signed by the registered key "
                     f"of {e['recipient']!r}")
            if rc["envelope_hash"] != target["env"]["hash"]:
                fail(f"{what}: receipt is for another envelope hash")
            if key not in target["env"]["recipients"]:
                fail(f"{what}: {e['recipient']!r} is not a recipient of "
                     f"entry {target['index']}")
            e["rc"] = rc
            e["target"] = target
        elif t == 10:
            v = versions.get((e["id"], e["version"]))
            if v is None:
                fail(f"{what}: notification {e['id']} version "
                     f"{e['version']} is not in the bundle before it")
            rc = parse_receipt(e["receipt"], what + " receipt")
            key = signer_key(e["party"], i, what)
            if rc["recipient"] != key:
                fail(f"{what}: receipt is not signed by the registered key "
                     f"of {e['party']!r}")
            if rc["envelope_hash"] != v["env"]["hash"]:
                fail(f"{what}: receipt is for another envelope hash")
            if rc["level"] not in (2, 3):
                fail(f"{what}: receipt level {rc['level']} is neither "
                     "acknowledged nor objected")
            if key not in v["env"]["recipients"]:
                fail(f"{what}: {e['party']!r} is not a recipient of the "
                     "notification")
            if rc["level"] == 3:
                reason = parse_envelope(e["reason_envelope"],
                                        what + " reason envelope")
                if reason["sender"] != key:
                    fail(f"{what}: reason envelope not sent by the party")
                if reason["hash"] != rc["reason_hash"]:
                    fail(f"{what}: reason envelope hash differs from the "
                         "receipt's reason_hash")
            elif e["reason_envelope"]:
                fail(f"{what}: reason_envelope must be empty for an "
                     "acknowledgement")
            e["rc"] = rc
            # Section 16.3: an answer signed by a recipient who is not one
            # of the version's parties (e.g. the issuer) is reported apart
            # and never counted as a party's answer.
            e["from_party"] = e["party"] in v["parties"]
        elif t == 11:
            if (e["id"], e["version"]) not in versions:
                fail(f"{what}: notification {e['id']} version "
                     f"{e['version']} is not in the bundle")
        elif t == 12:
            if e["reason_envelope"]:
                e["env"] = parse_envelope(e["reason_envelope"],
                                          what + " reason envelope")
                if e["env"]["sender"] != signer_key(e["cancelled_by"], i,
                                                    what):
                    fail(f"{what}: reason envelope not sent by "
                         f"{e['cancelled_by']!r}")
        elif t == 13:
            e["env"] = envelope_of(e, e["posted_by"], what)

    return {"vkey": vkey, "origin": origin, "size": size, "root": root,
            "entries": entries, "order": order, "identities": identities,
            "versions": versions}


# --------------------------------------------------------------------------
# Report (section 16.4)

def describe(e, result):
    t = e["type"]
    if t == 2:
        return (f"{e['name']} registered as {ROLES[e['role']]} of "
                f"{e['organisation']}")
    if t == 3:
        return f"{e['name']} published a new key bundle"
    if t == 7:
        return f"{e['sender']} sent an envelope on {e['channel']}"
    if t == 8:
        tgt = e["target"]
        about = (f"{tgt['id']} version {tgt['version']}" if tgt["type"] == 9
                 else f"entry {tgt['index']}")
        signed_at = f"(signed at {iso_s(e['rc']['time'])}, the device's clock)"
        if e["rc"]["level"] == 1:
            return (f"a device of {e['recipient']} signed a delivered "
                    f"receipt for {about} {signed_at}")
        # Section 16.3: a type 8 receipt of level 2 or 3 is never an
        # acknowledgement or objection of a notification.
        note = (", through SubmitReceipts: not an acknowledgement of the "
                "notification (only a notification-ack entry is)"
                if tgt["type"] == 9 else "")
        return (f"a device of {e['recipient']} signed a receipt of level "
                f"{RECEIPT_LEVELS[e['rc']['level']]} for {about} "
                f"{signed_at}{note}")
    if t == 9:
        kind = "movement" if e["nkind"] == 1 else "site"
        flags = []
        if e["flags"] & 1:
            flags.append("emergency")
        if e["flags"] & 2:
            flags.append("late")
        extra = f" ({', '.join(flags)})" if flags else ""
        return (f"{e['issuer']} notified {', '.join(e['parties'])} of {kind} "
                f"{e['id']} version {e['version']}{extra}")
    if t == 10 and not e["from_party"]:
        return (f"{e['party']}, who is not a party to {e['id']} version "
                f"{e['version']}, signed an answer of level "
                f"{RECEIPT_LEVELS[e['rc']['level']]} for it (signed at "
                f"{iso_s(e['rc']['time'])}, the device's clock): NOT counted "
                "as a party's answer; the server logs answers from the "
                "version's parties only")
    if t == 10:
        verb = ("acknowledged receipt of" if e["rc"]["level"] == 2
                else "objected to")
        return (f"{e['party']} {verb} {e['id']} version {e['version']} "
                f"(signed at {iso_s(e['rc']['time'])}, the device's clock)")
    if t == 11 and e["step"] == REVIEW_DUE:
        v = result["versions"].get((e["id"], e["version"]))
        kind = "movement" if v is not None and v["nkind"] == 1 else "site"
        return (f"review due: {e['party']} is asked to review {kind} "
                f"{e['id']} version {e['version']} "
                f"(review-by {iso_s(e['deadline'])})")
    if t == 11:
        return (f"{ESCALATION_STEPS.get(e['step'], 'step %d' % e['step'])} "
                f"for {e['party']} on {e['id']} version {e['version']} "
                f"(acknowledge-by {iso_s(e['deadline'])})")
    if t == 12:
        return (f"{e['cancelled_by']} cancelled {e['id']} "
                f"version {e['version']}")
    if t == 13:
        final = " (final outcome)" if e["final"] else ""
        return (f"{e['posted_by']} posted a status for {e['id']} version "
                f"{e['version']}{final}")
    return e["kind"]


def printable(text):
    """Names and organisations come from the bundle: never write control
    characters (terminal escapes) or undecodable bytes to the terminal."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "\n" or (o >= 0x20 and o != 0x7F and not 0x80 <= o <= 0x9F
                          and not 0xDC80 <= o <= 0xDCFF):
            out.append(ch)
        elif 0xDC80 <= o <= 0xDCFF:  # surrogateescape'd byte
            out.append(f"\\x{o - 0xDC00:02x}")
        else:
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
    return "".join(out)


def report(result, compared, out):
    def w(text):
        out.write(printable(text))
    w("Proof bundle parley-proof/v1 verified by an independent verifier "
      "(tests/interop/verify_proof.py).\n")
    w(f"Log {result['origin']}, signed checkpoint of {result['size']} "
      f"entries, root {b64(result['root'])}\n")
    w(f"Log key {result['vkey']}\n")
    if not compared:
        w("  NOT compared with an independently known key: check it "
          "against the key the log publishes.\n")
    else:
        w("  compared with the key given with --verifier-key: equal.\n")
    entries = result["entries"]
    w("\nIdentities (registered in the log):\n")
    for ident in result["identities"]:
        reg = entries[ident["index"]]
        w(f"  {ident['name']} ({ident['role']}) registered at entry "
          f"{ident['index']}, logged {iso_ms(reg['logged_at_ms'])}\n")
        w(f"    fingerprint {fingerprint(ident['key'])}\n")
    for (nid, ver), v in sorted(result["versions"].items(),
                                key=lambda kv: kv[1]["index"]):
        kind = "Movement" if v["nkind"] == 1 else "Site"
        flags = ""
        if v["flags"] & 1:
            flags += ", EMERGENCY"
        if v["flags"] & 2:
            flags += ", LATE (below the required lead time)"
        w(f"\n{kind} {nid} version {ver} from {v['issuer']}, logged "
          f"{iso_ms(v['logged_at_ms'])} (entry {v['index']}){flags}\n")
        if v["depart_at"]:
            w(f"  departure {iso_s(v['depart_at'])}\n")
        w(f"  acknowledge by {iso_s(v['ack_by'])}\n")
        if v["nkind"] == 2 and v["valid_until"]:
            w(f"  review by {iso_s(v['valid_until'])}\n")
        reviews = [i for i in result["order"]
                   if entries[i]["type"] == 11
                   and entries[i]["step"] == REVIEW_DUE
                   and entries[i]["id"] == nid
                   and entries[i]["version"] == ver]
        if reviews:
            e = entries[reviews[0]]
            w(f"  review due: reminder to {e['party']} logged "
              f"{iso_ms(e['logged_at_ms'])} (entry {reviews[0]})\n")
        w(f"  envelope hash {v['env']['hash'].hex()}\n")
        for party in v["parties"]:
            parts = ["notified"]
            # The first delivery receipt (level delivered, entry type 8) and
            # the first answer (entry type 10) count; a type-8 receipt of
            # another level is listed in the timeline only (section 16.3).
            delivered = [i for i in result["order"]
                         if entries[i]["type"] == 8
                         and entries[i]["target"] is v
                         and entries[i]["recipient"] == party
                         and entries[i]["rc"]["level"] == 1]
            if delivered:
                e = entries[delivered[0]]
                parts.append(f"delivered, logged "
                             f"{iso_ms(e['logged_at_ms'])} "
                             f"(entry {delivered[0]})")
            else:
                parts.append("no delivery receipt in this bundle")
            answers = [i for i in result["order"]
                       if entries[i]["type"] == 10
                       and entries[i]["from_party"]
                       and entries[i]["id"] == nid
                       and entries[i]["version"] == ver
                       and entries[i]["party"] == party]
            if answers:
                e = entries[answers[0]]
                verb = ("acknowledged receipt" if e["rc"]["level"] == 2
                        else "objected")
                parts.append(f"{verb}, logged "
                             f"{iso_ms(e['logged_at_ms'])} "
                             f"(entry {answers[0]})")
            else:
                parts.append("no acknowledgement in this bundle")
            steps = [entries[i]["step"] for i in result["order"]
                     if entries[i]["type"] == 11
                     and entries[i]["step"] != REVIEW_DUE
                     and entries[i]["id"] == nid
                     and entries[i]["version"] == ver
                     and entries[i]["party"] == party]
            if steps:
                parts.append(f"escalation step {max(steps)} logged")
            w(f"  {party}: {'; '.join(parts)}\n")
        for i in result["order"]:
            e = entries[i]
            if e["type"] == 10 and not e["from_party"] and \
                    e["id"] == nid and e["version"] == ver:
                level = "objected" if e["rc"]["level"] == 3 else \
                    "acknowledged"
                w(f"  answer from a non-party, NOT counted: {e['party']} "
                  f"signed level {level}, logged "
                  f"{iso_ms(e['logged_at_ms'])} (entry {i})\n")
    w("\nTimeline (log order):\n")
    for i in result["order"]:
        e = entries[i]
        w(f"  entry {i}, logged {iso_ms(e['logged_at_ms'])}: "
          f"{describe(e, result)}\n")
    w("\nAcknowledged receipt means a person at the party acknowledged "
      "receiving the notification; it is not approval. This bundle shows "
      "what was logged; it cannot show that nothing else was.\n")


def main(argv):
    args = argv[1:]
    known_key = None
    quiet = False
    path = None
    while args:
        a = args.pop(0)
        if a == "--verifier-key" and args:
            known_key = args.pop(0)
        elif a == "--quiet":
            quiet = True
        elif path is None and not a.startswith("--"):
            path = a
        else:
            sys.stderr.write(__doc__)
            return 2
    if path is None:
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        sys.stderr.write(f"verify_proof.py: cannot read {path}: {e}\n")
        return 2
    try:
        result = verify_bundle(raw, known_key)
    except VerifyError as e:
        sys.stderr.write(f"verify_proof.py: REJECTED: {printable(str(e))}\n")
        return 1
    if not quiet:
        report(result, known_key is not None, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
