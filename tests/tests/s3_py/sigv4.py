"""A small SigV4 signer for raw requests the SDKs will not send: skewed clocks, broken
payload hashes, aws-chunked bodies with chunk signatures, virtual-hosted hosts."""

import datetime
import hashlib
import hmac
import urllib.parse

EMPTY = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"


def _h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region="us-east-1"):
    k = _h(("AWS4" + secret).encode(), date)
    k = _h(k, region)
    k = _h(k, "s3")
    return _h(k, "aws4_request")


def sign(method, host, path, query, headers, payload_hash, key_id, secret, when=None):
    """Returns the headers (with Authorization) of a request; `path` is already quoted."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    h = {k.lower(): v for k, v in headers.items()}
    h["host"] = host
    h["x-amz-date"] = amz_date
    h["x-amz-content-sha256"] = payload_hash
    signed = sorted(h)
    pairs = sorted(
        (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)
    )
    cq = "&".join(f"{k}={v}" for k, v in pairs)
    ch = "".join(f"{k}:{' '.join(str(h[k]).split())}\n" for k in signed)
    creq = "\n".join([method, path, cq, ch, ";".join(signed), payload_hash])
    scope = f"{date}/us-east-1/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = signing_key(secret, date)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={';'.join(signed)}, Signature={sig}"
    )
    return h, key, amz_date, scope, sig


def chunked_body(data, chunk, key, amz_date, scope, seed, tamper=False):
    """aws-chunked encoding of `data` with chained chunk signatures."""
    return _chunks(data, chunk, key, amz_date, scope, seed, tamper)[0]


def chunked_body_with_trailer(data, chunk, key, amz_date, scope, seed, trailer):
    """aws-chunked `data` with chunk signatures, then the `trailer` line (`name:value`)
    and its x-amz-trailer-signature, chained from the last chunk's."""
    out, prev = _chunks(data, chunk, key, amz_date, scope, seed, False)
    out = out[:-2]  # the trailer follows the zero-sized chunk's header line directly
    canonical = trailer + "\n"
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev, hashlib.sha256(canonical.encode()).hexdigest()])
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return out + f"{trailer}\r\nx-amz-trailer-signature:{sig}\r\n\r\n".encode()


def _chunks(data, chunk, key, amz_date, scope, seed, tamper):
    out = b""
    prev = seed
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for i, piece in enumerate(pieces):
        sts = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY, hashlib.sha256(piece).hexdigest()]
        )
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if tamper and i == 1:
            piece = piece[:-1] + bytes([piece[-1] ^ 1])
        out += f"{len(piece):x};chunk-signature={sig}\r\n".encode() + piece + b"\r\n"
        prev = sig
    return out, prev
