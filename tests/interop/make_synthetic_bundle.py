#!/usr/bin/env python3
"""Writes tests/interop/synthetic_bundle.json: a parley-proof/v1 bundle built
from docs/PROTOCOL.md alone (sections 2-8, 11, 12, 13.1, 16), with a
made-up log key and made-up identities (seeds are fixed strings below), by a
producer that shares no code with Parley. `parley proof verify` and
tests/interop/verify_proof.py must both accept it
(tests/integration/interop_proof_test.cc). Envelope ciphertexts are
deterministic filler: a verifier checks signatures, not decryption.

Usage: make_synthetic_bundle.py [VARIANT] > FILE
Without VARIANT: the checked-in tests/interop/synthetic_bundle.json.
Variants (crafted for tests/integration/interop_proof_test.cc, each a
bundle whose log really holds the crafted entry, signed under the same
made-up log key):
  signed-slot-one-time  partya's key bundle has a one-time prekey (kind 2)
                        in its signed-prekey slot (reject, 5.2, 16.3 step 4)
  escalation-step-5     an escalation entry with step 5 (reject, section 12)
  ack-by-issuer         a notification-ack by cora, the issuer, who is a
                        recipient but not a party (accept; reported as an
                        answer from a non-party, never counted, 16.3)
  receipt-level-2       partyb's type 8 receipt of level acknowledged for
                        version 1 (accept; not an acknowledgement, 16.3)
The output is reproducible bit for bit (Ed25519 signatures are
deterministic)."""
import base64, hashlib, json, os, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

def sha(b): return hashlib.sha256(b).digest()
def b64(b): return base64.b64encode(b).decode()
def u8(v): return v.to_bytes(1,'big')
def u16(v): return v.to_bytes(2,'big')
def u32(v): return v.to_bytes(4,'big')
def u64(v): return v.to_bytes(8,'big')
def v1(b): return u8(len(b))+b
def v2(b): return u16(len(b))+b
def v4(b): return u32(len(b))+b
def raw_pub(sk): return sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
def si(tag, body): return tag.encode()+b'\0'+body

class Ident:
    def __init__(s, name, role, org, seed):
        s.name=name; s.role=role; s.org=org
        s.sk=Ed25519PrivateKey.from_private_bytes(sha(seed.encode()))
        s.pk=raw_pub(s.sk)
    def sign(s, tag, body): return s.sk.sign(si(tag, body))

T0=1790000000
def prekey(ident, kind=1, key_id=10, created=T0, expires=T0+604800, mutate=None):
    x=X25519PrivateKey.from_private_bytes(sha(b'x'+ident.pk+u32(key_id)))
    body=u8(1)+u8(1)+u8(kind)+u32(key_id)+raw_pub(x)+u64(created)+u64(expires)
    return body+ident.sign('parley/v1/prekey', body)

def key_bundle(ident, spk=None, extra=b''):
    return u8(1)+u8(2)+ident.pk+(spk or prekey(ident))+u16(0)+extra

def entry(t, ms, body): return u8(1)+u8(t)+u64(ms)+body

def member_registered(ident, ms, kb=None, sig=None, invite=None):
    kb = kb or key_bundle(ident)
    inv = invite or sha(b'invite-'+ident.name.encode())
    sig = sig or ident.sign('parley/v1/enroll', inv+v1(ident.name.encode())+v4(kb))
    return entry(2, ms, v1(ident.name.encode())+u8(ident.role)+v1(ident.org.encode())+inv+v4(kb)+sig)

def key_bundle_published(ident, ms, kb):
    sig=ident.sign('parley/v1/rotate', v1(ident.name.encode())+v4(kb))
    return entry(3, ms, v1(ident.name.encode())+v4(kb)+sig)

def det(n, seed):
    import random
    return random.Random(seed).randbytes(n)

def envelope(sender, channel, recipients, seq=0, prev=bytes(32), ct=b'application/vnd.parley.movement+json', created=T0, cmid=None, sign_with=None, clen=272, eph=None):
    sd=channel+u64(seq)+sender.pk
    e=X25519PrivateKey.from_private_bytes(sha(b'e'+channel+u64(seq)))
    h=u8(1)+u8(3)+v1(channel)+sender.pk+(cmid or sha(channel+u64(seq))[:16])+u64(seq)+prev+u64(created)+v1(ct)+(eph or raw_pub(e))+det(24,b'n'+sd)+det(32,b'c'+sd)+u16(len(recipients))
    for r in recipients: h+=r.pk+u32(10)+u32(0)
    body=h+det(48*len(recipients),b'w'+sd)+u32(clen)+det(clen,b'x'+sd)
    return body+(sign_with or sender).sign('parley/v1/envelope', body)

def receipt(ident, level, env_hash, t=T0+60, reason_hash=None):
    body=u8(1)+u8(4)+u8(level)+env_hash+ident.pk+u64(t)+(reason_hash if level==3 else b'')
    return body+ident.sign('parley/v1/receipt', body)

def notification(ms, nid, version, issuer, parties, env, flags=0, kind=1):
    body=v1(nid.encode())+u32(version)+u8(kind)+v1(issuer.name.encode())+u16(len(parties))
    for p in sorted(parties, key=lambda p:p.name): body+=v1(p.name.encode())
    body+=u64(T0+3*86400)+u64(T0+2*86400)+u64(0)+u64(0)+u8(flags)+u64(172800)+v4(env)
    return entry(9, ms, body)

def site(ms, nid, version, issuer, parties, env, valid_from, review_by):
    """A static site (kind 2): no departure, no ack-by, valid_until is the
    review-by date."""
    body=v1(nid.encode())+u32(version)+u8(2)+v1(issuer.name.encode())+u16(len(parties))
    for p in sorted(parties, key=lambda p:p.name): body+=v1(p.name.encode())
    body+=u64(0)+u64(0)+u64(valid_from)+u64(review_by)+u8(0)+u64(0)+v4(env)
    return entry(9, ms, body)

def receipt_entry(ms, env_index, ident, rc): return entry(8, ms, u64(env_index)+v1(ident.name.encode())+v4(rc))
def ack_entry(ms, nid, version, ident, rc, reason=b''): return entry(10, ms, v1(nid.encode())+u32(version)+v1(ident.name.encode())+v4(rc)+v4(reason))
def escalation(ms, nid, version, party, step, deadline): return entry(11, ms, v1(nid.encode())+u32(version)+v1(party.encode())+u8(step)+u64(deadline))
def cancelled(ms, nid, version, by, reason): return entry(12, ms, v1(nid.encode())+u32(version)+v1(by.name.encode())+v4(reason))
def status(ms, nid, version, by, final, env): return entry(13, ms, v1(nid.encode())+u32(version)+v1(by.name.encode())+u8(final)+v4(env))
def filler(ms, i): return entry(1, ms, sha(b'f'+u64(i))+u8(4)+v1(b'')+v1(b'org')+u64(0)+v1(b''))

# Merkle (RFC 9162)
def lh(d): return sha(b'\0'+d)
def nh(l,r): return sha(b'\1'+l+r)
def mth(D):
    n=len(D)
    if n==0: return sha(b'')
    if n==1: return lh(D[0])
    k=1
    while k*2<n: k*=2
    return nh(mth(D[:k]), mth(D[k:]))
def path(m, D):
    n=len(D)
    if n<=1: return []
    k=1
    while k*2<n: k*=2
    if m<k: return path(m, D[:k])+[mth(D[k:])]
    return path(m-k, D[k:])+[mth(D[:k])]

class Log:
    def __init__(s, origin='synthetic.example/log', seed='log'):
        s.origin=origin; s.sk=Ed25519PrivateKey.from_private_bytes(sha(seed.encode())); s.pk=raw_pub(s.sk)
        s.leaves=[]
    def kid(s, name=None): return sha((name or s.origin).encode()+b'\n\x01'+s.pk)[:4]
    def vkey(s): return s.origin+'+'+s.kid().hex()+'+'+b64(bytes([1])+s.pk)
    def append(s, leaf): s.leaves.append(leaf); return len(s.leaves)-1
    def checkpoint(s, size=None, ext=''):
        size=len(s.leaves) if size is None else size
        text=f'{s.origin}\n{size}\n{b64(mth(s.leaves[:size]))}\n{ext}'
        sig=s.sk.sign(text.encode())
        return text+'\n'+f'\u2014 {s.origin} {b64(s.kid()+sig)}\n'
    def proof(s, i, cp, size=None):
        size=len(s.leaves) if size is None else size
        return 'c2sp.org/tlog-proof@v1\nindex %d\n' % i + ''.join(b64(h)+'\n' for h in path(i, s.leaves[:size])) + '\n' + cp

KINDS={1:'invite-created',2:'member-registered',3:'key-bundle-published',4:'member-revoked',5:'channel-created',6:'channel-members-changed',7:'envelope',8:'receipt',9:'notification',10:'notification-ack',11:'escalation',12:'notification-cancelled',13:'notification-status'}
ROLE={1:'admin',2:'mediator',3:'coordinator',4:'party',5:'observer'}

def bundle(log, indexes, identities, cp=None):
    cp = cp or log.checkpoint()
    ents=[{'kind':KINDS.get(log.leaves[i][1],'unknown'), 'index':i, 'leaf':b64(log.leaves[i]), 'tlog_proof':log.proof(i, cp)} for i in indexes]
    ids=[{'name':n.name,'role':ROLE[n.role],'identity_key':b64(n.pk),'registration_index':ri} for n,ri in identities]
    return json.dumps({'format':'parley-proof/v1','verifier_key':log.vkey(),'checkpoint':cp,'entries':ents,'identities':ids}, indent=1).encode()

def scenario(**opt):
    """A full flow; opt lets a caller alter pieces (by name)."""
    log=Log()
    cora=Ident('cora',3,'ocha','cora'); pa=Ident('partya',4,'north','pa'); pb=Ident('partyb',4,'south','pb'); mona=Ident('mona',2,'un','mona')
    ms=T0*1000
    for i in range(3): log.append(filler(ms+i, i))
    reg={}
    for p in (mona, cora, pa, pb):
        leaf = opt.get('reg_'+p.name, lambda p, ms: member_registered(p, ms))(p, ms)
        reg[p.name]=log.append(leaf)
    nid='convoy-9'
    aud=[cora, mona, pa, pb]
    env1=opt.get('env1', lambda: envelope(cora, b'n/'+nid.encode(), aud))()
    n1=log.append(opt.get('notif1', lambda env: notification(ms+100, nid, 1, cora, [pa,pb], env))(env1))
    h1=sha(env1)
    r1=log.append(opt.get('rcpt1', lambda: receipt_entry(ms+200, n1, pa, receipt(pa, 1, h1)))())
    a1=log.append(opt.get('ack1', lambda: ack_entry(ms+300, nid, 1, pa, receipt(pa, 2, h1)))())
    env2=opt.get('env2', lambda: envelope(cora, b'n/'+nid.encode(), aud, seq=1, prev=h1))()
    n2=log.append(notification(ms+400, nid, 2, cora, [pa,pb], env2))
    h2=sha(env2)
    reason=envelope(pa, b'n/'+nid.encode()+b'/objection', [cora, mona], ct=b'application/vnd.parley.objection+json')
    o2=log.append(opt.get('obj2', lambda: ack_entry(ms+500, nid, 2, pa, receipt(pa, 3, h2, reason_hash=sha(reason)), reason))())
    e2=log.append(escalation(ms+600, nid, 2, 'partyb', opt.get('step', 1), T0+2*86400))
    st=log.append(opt.get('status', lambda: status(ms+700, nid, 2, cora, 0, envelope(cora, b'n/'+nid.encode()+b'/status', aud, ct=b'application/vnd.parley.status+json')))())
    ca=log.append(opt.get('cancel', lambda: cancelled(ms+800, nid, 2, cora, envelope(cora, b'n/'+nid.encode()+b'/cancel', aud, ct=b'application/vnd.parley.cancel+json')))())
    for extra in opt.get('extra_leaves', []):
        log.append(extra(ms))
    log.append(filler(ms+900, 99))
    idx=[reg['cora'], reg['partya'], n1, r1, a1, n2, o2, e2, st, ca] + opt.get('extra_idx', [])
    ids=[(cora, reg['cora']), (pa, reg['partya'])]
    return log, sorted(idx), ids, locals()

def variant(name):
    """The crafted bundles listed in the module docstring."""
    cora=Ident('cora',3,'ocha','cora'); pa=Ident('partya',4,'north','pa'); pb=Ident('partyb',4,'south','pb'); mona=Ident('mona',2,'un','mona')
    ms=T0*1000
    h1=sha(envelope(cora, b'n/convoy-9', [cora, mona, pa, pb]))
    if name == 'signed-slot-one-time':
        reg = lambda p, ms: member_registered(p, ms, kb=key_bundle(p, spk=prekey(p, kind=2)))
        log, idx, ids, _ = scenario(reg_partya=reg)
    elif name == 'escalation-step-5':
        log, idx, ids, _ = scenario(step=5)
    elif name == 'ack-by-issuer':
        # After the scenario's leaves (15 of them): cora "acknowledges"
        # version 1 as if she were a party.
        ack = lambda ms: ack_entry(ms + 1000, 'convoy-9', 1, cora, receipt(cora, 2, h1))
        log, idx, ids, _ = scenario(extra_leaves=[ack], extra_idx=[15])
    elif name == 'receipt-level-2':
        # partyb signs a type 8 receipt of level 2 for version 1 (entry 7).
        rc = lambda ms: receipt_entry(ms + 1000, 7, pb, receipt(pb, 2, h1))
        log, idx, ids, _ = scenario(extra_leaves=[rc], extra_idx=[6, 15])
        ids = ids + [(pb, 6)]
    else:
        sys.exit(f'unknown variant {name!r}')
    sys.stdout.buffer.write(bundle(log, idx, ids) + b'\n')


def main():
    if len(sys.argv) > 1:
        return variant(sys.argv[1])
    # partya's key bundle carries a one-time prekey; cora rotates her key
    # (key-bundle-published) and signs a status update with the new key;
    # then notifies a static site with her new key, whose review-by date
    # falls due (escalation step 4, to cora).
    def pa_reg(p, ms):
        kb = key_bundle(p)[:-2] + u16(1) + prekey(p, kind=2, key_id=500)
        return member_registered(p, ms, kb=kb)
    cora2 = Ident('cora', 3, 'ocha', 'cora-rotated')
    nid = 'convoy-9'
    aud = [cora2, Ident('mona', 2, 'un', 'mona'), Ident('partya', 4, 'north', 'pa'),
           Ident('partyb', 4, 'south', 'pb')]
    rotate = lambda ms: key_bundle_published(cora2, ms + 1000, key_bundle(cora2))
    final = lambda ms: status(ms + 1100, nid, 2, cora2, 1, envelope(
        cora2, b'n/' + nid.encode() + b'/status', aud,
        ct=b'application/vnd.parley.status+json'))
    site_env = envelope(cora2, b'n/site-3', aud,
                        ct=b'application/vnd.parley.site+json')
    # Logged at T0 + 1.2 s, due for review at T0 + 2 s, reminded then.
    review_by = T0 + 2
    site_v1 = lambda ms: site(ms + 1200, 'site-3', 1, cora2, aud[2:], site_env,
                              T0, review_by)
    review_due = lambda ms: escalation(ms + 2000, 'site-3', 1, 'cora', 4,
                                       review_by)
    log, idx, ids, _ = scenario(reg_partya=pa_reg,
                                extra_leaves=[rotate, final, site_v1,
                                              review_due],
                                extra_idx=[15, 16, 17, 18])
    sys.stdout.buffer.write(bundle(log, idx, ids + [(cora2, 15)]) + b'\n')


if __name__ == '__main__':
    main()
