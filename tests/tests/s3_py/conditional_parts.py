"""S3 conditional writes (If-None-Match: *, If-Match on PutObject, CopyObject and
CompleteMultipartUpload, racing writers) and GetObject/HeadObject by partNumber, with
the real boto3. Usage: conditional_parts.py <endpoint> <swift auth url>. Prints one line
per check; any failure raises."""

import sys
import threading

import requests
from botocore.exceptions import ClientError

import s3check
from s3check import CHECKS, check, error_of

EP, AUTH = sys.argv[1], sys.argv[2]
MiB = 1 << 20
BUCKET = "cond"


def client():
    return s3check.client(EP, max_pool_connections=20)


s3 = client()


def expect_error(code, status, fn, *a, **kw):
    got = error_of(fn, *a, **kw)
    assert got == (code, status), f"expected {code}/{status}, got {got}"


def body_of(key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def multipart(key, sizes, **complete_args):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts, data = [], b""
    for n, size in enumerate(sizes, 1):
        chunk = bytes([ord("a") + n]) * size
        data += chunk
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=n, Body=chunk)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    return up, parts, data


@check
def if_none_match_star():
    s3.create_bucket(Bucket=BUCKET)
    assert s3.put_object(Bucket=BUCKET, Key="new", Body=b"one", IfNoneMatch="*")["ETag"]
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=BUCKET, Key="new", Body=b"two", IfNoneMatch="*")
    assert body_of("new") == b"one"
    expect_error("NotImplemented", 501, s3.put_object, Bucket=BUCKET, Key="new", Body=b"x", IfNoneMatch='"abc"')


@check
def if_match_chain():
    etag = s3.put_object(Bucket=BUCKET, Key="chain", Body=b"v1")["ETag"]
    for n in range(2, 5):
        new = s3.put_object(Bucket=BUCKET, Key="chain", Body=f"v{n}".encode(), IfMatch=etag)["ETag"]
        # The old ETag no longer matches: a writer that read v(n-1) loses.
        expect_error("PreconditionFailed", 412, s3.put_object, Bucket=BUCKET, Key="chain", Body=b"stale",
                     IfMatch=etag)
        etag = new
    assert body_of("chain") == b"v4"
    expect_error("NoSuchKey", 404, s3.put_object, Bucket=BUCKET, Key="absent", Body=b"x", IfMatch=etag)
    assert s3.put_object(Bucket=BUCKET, Key="chain", Body=b"any", IfMatch="*")


def race(writers, key, body, **conditions):
    """`writers` clients PUT `key` (with `body(i)`) at once under `conditions`; returns
    each one's outcome, ("ok", i) or (HTTP status, i)."""
    results, clients = [], [client() for _ in range(writers)]
    start = threading.Barrier(len(clients))

    def writer(i, c):
        start.wait()
        try:
            c.put_object(Bucket=BUCKET, Key=key, Body=body(i), **conditions)
            results.append(("ok", i))
        except ClientError as e:
            results.append((e.response["ResponseMetadata"]["HTTPStatusCode"], i))

    threads = [threading.Thread(target=writer, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@check
def racing_creators():
    """Eight writers create one key with If-None-Match: * at once: exactly one wins."""
    results = race(8, "raced", lambda i: f"writer {i}".encode(), IfNoneMatch="*")
    winners = [i for r, i in results if r == "ok"]
    assert len(winners) == 1, results
    assert all(r in (412, 409) for r, _ in results if r != "ok"), results
    assert body_of("raced") == f"writer {winners[0]}".encode()


@check
def racing_if_match():
    """Writers that all read the same ETag update with If-Match: one update lands."""
    etag = s3.put_object(Bucket=BUCKET, Key="counter", Body=b"0")["ETag"]
    results = race(6, "counter", lambda i: f"{i + 1}".encode(), IfMatch=etag)
    winners = [i for r, i in results if r == "ok"]
    assert len(winners) == 1, results
    assert body_of("counter") == f"{winners[0] + 1}".encode()


@check
def copy_destination_conditions():
    s3.put_object(Bucket=BUCKET, Key="src", Body=b"source")
    src = {"Bucket": BUCKET, "Key": "src"}
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource=src, IfNoneMatch="*")
    assert body_of("copy") == b"source"
    expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=BUCKET, Key="copy", CopySource=src,
                 IfNoneMatch="*")
    etag = s3.head_object(Bucket=BUCKET, Key="copy")["ETag"]
    expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=BUCKET, Key="copy", CopySource=src,
                 IfMatch='"0123"', MetadataDirective="REPLACE")
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource=src, IfMatch=etag, MetadataDirective="REPLACE",
                   Metadata={"m": "1"})
    assert s3.head_object(Bucket=BUCKET, Key="copy")["Metadata"] == {"m": "1"}


@check
def complete_conditions():
    up, parts, data = multipart("mpu", [5 * MiB, 10])
    s3.complete_multipart_upload(Bucket=BUCKET, Key="mpu", UploadId=up, MultipartUpload={"Parts": parts},
                                 IfNoneMatch="*")
    assert body_of("mpu") == data
    # A retried Complete of the same parts answers the same; of other parts, NoSuchUpload.
    again = s3.complete_multipart_upload(Bucket=BUCKET, Key="mpu", UploadId=up,
                                         MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    etag = again["ETag"]
    expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=BUCKET, Key="mpu", UploadId=up,
                 MultipartUpload={"Parts": parts[:1]})
    up2, parts2, _ = multipart("mpu", [10])
    expect_error("PreconditionFailed", 412, s3.complete_multipart_upload, Bucket=BUCKET, Key="mpu",
                 UploadId=up2, MultipartUpload={"Parts": parts2}, IfNoneMatch="*")
    expect_error("PreconditionFailed", 412, s3.complete_multipart_upload, Bucket=BUCKET, Key="mpu",
                 UploadId=up2, MultipartUpload={"Parts": parts2}, IfMatch='"deadbeef"')
    s3.complete_multipart_upload(Bucket=BUCKET, Key="mpu", UploadId=up2, MultipartUpload={"Parts": parts2},
                                 IfMatch=etag)
    assert body_of("mpu") == b"b" * 10


@check
def swift_if_none_match_still_works():
    token = requests.get(AUTH, headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    url, tok = token.headers["X-Storage-Url"], token.headers["X-Auth-Token"]
    h = {"X-Auth-Token": tok, "If-None-Match": "*"}
    assert requests.put(f"{url}/{BUCKET}/swift-once", data=b"a", headers=h).status_code == 201
    assert requests.put(f"{url}/{BUCKET}/swift-once", data=b"b", headers=h).status_code == 412


@check
def get_by_part_number():
    up, parts, data = multipart("parts", [5 * MiB, 5 * MiB, 7])
    etag = s3.complete_multipart_upload(Bucket=BUCKET, Key="parts", UploadId=up,
                                        MultipartUpload={"Parts": parts})["ETag"]
    offset = 0
    for n, size in [(1, 5 * MiB), (2, 5 * MiB), (3, 7)]:
        h = s3.head_object(Bucket=BUCKET, Key="parts", PartNumber=n)
        assert h["PartsCount"] == 3 and h["ContentLength"] == size and h["ETag"] == etag, h
        assert h["ResponseMetadata"]["HTTPStatusCode"] == 206, h
        g = s3.get_object(Bucket=BUCKET, Key="parts", PartNumber=n)
        assert g["ContentRange"] == f"bytes {offset}-{offset + size - 1}/{len(data)}", g["ContentRange"]
        assert g["PartsCount"] == 3 and g["Body"].read() == data[offset:offset + size]
        offset += size
    expect_error("InvalidPartNumber", 416, s3.get_object, Bucket=BUCKET, Key="parts", PartNumber=4)
    expect_error("416", 416, s3.head_object, Bucket=BUCKET, Key="parts", PartNumber=4)
    expect_error("InvalidArgument", 400, s3.get_object, Bucket=BUCKET, Key="parts", PartNumber=10001)
    expect_error("InvalidRequest", 400, s3.get_object, Bucket=BUCKET, Key="parts", PartNumber=1, Range="bytes=0-1")
    # An object that is not multipart is one part: all of it.
    s3.put_object(Bucket=BUCKET, Key="plain", Body=b"plain body")
    g = s3.get_object(Bucket=BUCKET, Key="plain", PartNumber=1)
    assert g["Body"].read() == b"plain body" and g["ContentRange"] == "bytes 0-9/10", g
    expect_error("InvalidPartNumber", 416, s3.get_object, Bucket=BUCKET, Key="plain", PartNumber=2)


s3check.run_checks(CHECKS, "all conditional and part checks passed")
