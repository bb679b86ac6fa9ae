"""Every S3 operation Swiftlet serves, driven by the real boto3 (and raw signed requests
for what the SDK will not send), plus the bad-input cases. Usage: boto3_ops.py <endpoint>
<swift auth url>. Prints one line per check; any failure raises."""

import base64
import datetime
import hashlib
import http.client
import os
import sys
import time
import urllib.parse

import boto3
import botocore
import requests
import swiftclient
from botocore.exceptions import ClientError

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(__file__))
import sigv4  # noqa: E402
import s3check  # noqa: E402
from s3check import expect_error  # noqa: E402

EP, AUTH = sys.argv[1], sys.argv[2]
HOSTPORT = urllib.parse.urlsplit(EP).netloc
MiB = 1 << 20


def client(key="test:tester", secret="testing", sig="s3v4"):
    return s3check.client(EP, key, secret, sig)


s3 = client()
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def raw(method, path, query="", headers=None, body=b"", payload_hash=None, when=None, host=HOSTPORT,
        key="test:tester", secret="testing"):
    ph = payload_hash or hashlib.sha256(body).hexdigest()
    h, *_ = sigv4.sign(method, host, path, query, headers or {}, ph, key, secret, when)
    url = f"{EP}{path}" + (f"?{query}" if query else "")
    return requests.request(method, url, headers=h, data=body)


def error_code(resp):
    import xml.etree.ElementTree as ET
    return ET.fromstring(resp.content).findtext("Code")


@check
def buckets():
    s3.create_bucket(Bucket="bkt1")
    expect_error("BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket="bkt1")
    s3.head_bucket(Bucket="bkt1")
    assert s3.get_bucket_location(Bucket="bkt1").get("LocationConstraint") in (None, "")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "bkt1" in names, names
    for bad in ["ab", "Bad_Name", "a..b", "-abc"]:
        expect_error("InvalidBucketName", 400, s3.create_bucket, Bucket=bad)
    expect_error("InvalidLocationConstraint", 400, s3.create_bucket, Bucket="b-mars",
                 CreateBucketConfiguration={"LocationConstraint": "mars-1"})
    expect_error("NoSuchBucket", 404, s3.get_bucket_location, Bucket="nope-bucket")
    try:
        s3.head_bucket(Bucket="nope-bucket")
        raise AssertionError("HEAD of a missing bucket succeeded")
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@check
def objects():
    body = b"hello world"
    md5 = hashlib.md5(body).hexdigest()
    r = s3.put_object(Bucket="bkt1", Key="k", Body=body, ContentType="text/plain", Metadata={"color": "blue"},
                      ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode())
    assert r["ETag"] == f'"{md5}"', r
    g = s3.get_object(Bucket="bkt1", Key="k")
    assert g["Body"].read() == body and g["Metadata"] == {"color": "blue"} and g["ContentType"] == "text/plain", g
    h = s3.head_object(Bucket="bkt1", Key="k")
    assert h["ContentLength"] == len(body) and h["ETag"] == f'"{md5}"'
    rg = s3.get_object(Bucket="bkt1", Key="k", Range="bytes=1-3")
    assert rg["Body"].read() == b"ell" and rg["ContentRange"] == "bytes 1-3/11", rg
    expect_error("InvalidRange", 416, s3.get_object, Bucket="bkt1", Key="k", Range="bytes=100-200")
    expect_error("304", 304, s3.get_object, Bucket="bkt1", Key="k", IfNoneMatch=f'"{md5}"')
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket="bkt1", Key="k", IfMatch='"0000"')
    old = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket="bkt1", Key="k", IfUnmodifiedSince=old)
    ov = s3.get_object(Bucket="bkt1", Key="k", ResponseContentType="text/x-test",
                       ResponseContentDisposition="attachment; filename=x.txt", ResponseCacheControl="no-cache")
    assert ov["ContentType"] == "text/x-test" and ov["ContentDisposition"].startswith("attachment"), ov
    assert ov["CacheControl"] == "no-cache"
    expect_error("BadDigest", 400, s3.put_object, Bucket="bkt1", Key="bad-md5", Body=b"x",
                 ContentMD5=base64.b64encode(hashlib.md5(b"y").digest()).decode())
    expect_error("InvalidDigest", 400, s3.put_object, Bucket="bkt1", Key="bad-md5", Body=b"x", ContentMD5="zz")
    try:
        s3.head_object(Bucket="bkt1", Key="bad-md5")
        raise AssertionError("an object with a bad Content-MD5 was stored")
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="bkt1", Key="missing")
    expect_error("NoSuchBucket", 404, s3.get_object, Bucket="nope-bucket", Key="k")
    expect_error("NoSuchBucket", 404, s3.put_object, Bucket="nope-bucket", Key="k", Body=b"x")
    s3.put_object(Bucket="bkt1", Key="empty", Body=b"")
    assert s3.get_object(Bucket="bkt1", Key="empty")["Body"].read() == b""
    s3.delete_object(Bucket="bkt1", Key="empty")
    s3.delete_object(Bucket="bkt1", Key="never-existed")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="bkt1", Key="empty")


@check
def copies():
    r = s3.copy_object(Bucket="bkt1", Key="k2", CopySource={"Bucket": "bkt1", "Key": "k"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"hello world").hexdigest()
    assert s3.head_object(Bucket="bkt1", Key="k2")["Metadata"] == {"color": "blue"}
    s3.copy_object(Bucket="bkt1", Key="k3", CopySource="bkt1/k", MetadataDirective="REPLACE",
                   Metadata={"shape": "round"}, ContentType="application/x-new")
    h = s3.head_object(Bucket="bkt1", Key="k3")
    assert h["Metadata"] == {"shape": "round"} and h["ContentType"] == "application/x-new", h
    expect_error("InvalidRequest", 400, s3.copy_object, Bucket="bkt1", Key="k", CopySource="bkt1/k")
    s3.copy_object(Bucket="bkt1", Key="k", CopySource="bkt1/k", MetadataDirective="REPLACE", Metadata={"color": "red"})
    assert s3.head_object(Bucket="bkt1", Key="k")["Metadata"] == {"color": "red"}
    expect_error("PreconditionFailed", 412, s3.copy_object, Bucket="bkt1", Key="k4", CopySource="bkt1/k",
                 CopySourceIfMatch='"0000"')
    expect_error("NoSuchKey", 404, s3.copy_object, Bucket="bkt1", Key="k4", CopySource="bkt1/missing")
    s3.create_bucket(Bucket="bkt2")
    s3.copy_object(Bucket="bkt2", Key="from-bkt1", CopySource="bkt1/k")
    assert s3.get_object(Bucket="bkt2", Key="from-bkt1")["Body"].read() == b"hello world"


@check
def listings():
    for k in ["dir/a", "dir/b", "dir/sub/c", "top", "sp ace+plus&amp", "ü-unicode"]:
        s3.put_object(Bucket="bkt2", Key=k, Body=k.encode())
    r = s3.list_objects_v2(Bucket="bkt2", Prefix="dir/", Delimiter="/")
    assert [c["Key"] for c in r["Contents"]] == ["dir/a", "dir/b"], r
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/sub/"], r
    assert r["KeyCount"] == 3 and not r["IsTruncated"]
    all_keys = sorted(["dir/a", "dir/b", "dir/sub/c", "top", "sp ace+plus&amp", "ü-unicode", "from-bkt1"])
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket="bkt2", MaxKeys=2, **kw)
        seen += [c["Key"] for c in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert seen == all_keys, seen
    r = s3.list_objects_v2(Bucket="bkt2", StartAfter="top")
    assert [c["Key"] for c in r["Contents"]] == ["ü-unicode"], r
    r = s3.list_objects(Bucket="bkt2", Marker="dir/sub/c", MaxKeys=2)
    assert [c["Key"] for c in r["Contents"]] == ["from-bkt1", "sp ace+plus&amp"] and r["IsTruncated"], r
    r = s3.list_objects(Bucket="bkt2", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/"]
    c = [c for c in r["Contents"] if c["Key"] == "top"][0]
    assert c["Size"] == len(c["Key"].encode()) and c["ETag"].startswith('"') and c["Owner"]["ID"] == "test:tester"
    # Asked for explicitly, the URL encoding is left for the caller to undo.
    r = s3.list_objects_v2(Bucket="bkt2", EncodingType="url", Prefix="sp")
    assert [urllib.parse.unquote_plus(c["Key"]) for c in r["Contents"]] == ["sp ace+plus&amp"], r
    raw_resp = raw("GET", "/bkt2", "list-type=2&prefix=sp&encoding-type=url", payload_hash=sigv4.EMPTY)
    assert b"<Key>sp%20ace%2Bplus%26amp</Key>" in raw_resp.content, raw_resp.content
    assert s3.list_objects_v2(Bucket="bkt2", MaxKeys=0)["KeyCount"] == 0
    bad = raw("GET", "/bkt2", "max-keys=-1", payload_hash=sigv4.EMPTY)
    assert bad.status_code == 400 and error_code(bad) == "InvalidArgument", bad.content
    bad = raw("GET", "/bkt2", "encoding-type=base64", payload_hash=sigv4.EMPTY)
    assert bad.status_code == 400 and error_code(bad) == "InvalidArgument", bad.content
    expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket="nope-bucket")
    v = s3.list_object_versions(Bucket="bkt2", Prefix="dir/")
    assert [(x["Key"], x["VersionId"], x["IsLatest"]) for x in v["Versions"]] == [
        ("dir/a", "null", True), ("dir/b", "null", True), ("dir/sub/c", "null", True)], v


@check
def multi_delete():
    r = s3.delete_objects(Bucket="bkt2", Delete={"Objects": [{"Key": "dir/a"}, {"Key": "does-not-exist"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["dir/a", "does-not-exist"] and not r.get("Errors"), r
    r = s3.delete_objects(Bucket="bkt2", Delete={"Objects": [{"Key": "dir/b"}], "Quiet": True})
    assert not r.get("Deleted") and not r.get("Errors"), r
    keys = [c["Key"] for c in s3.list_objects_v2(Bucket="bkt2", Prefix="dir/")["Contents"]]
    assert keys == ["dir/sub/c"], keys
    body = b"<Delete><Object><Key>x</Key></Object>"  # not well-formed
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = raw("POST", "/bkt2", "delete", {"content-md5": md5}, body)
    assert r.status_code == 400 and error_code(r) == "MalformedXML", r.content
    body = b"<Delete><Object><Key>x</Key></Object></Delete>"
    r = raw("POST", "/bkt2", "delete", {}, body)
    assert r.status_code == 400 and error_code(r) == "InvalidRequest", r.content
    many = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>"
    r = raw("POST", "/bkt2", "delete", {"content-md5": base64.b64encode(hashlib.md5(many).digest()).decode()}, many)
    assert r.status_code == 400 and error_code(r) == "MalformedXML", r.content


@check
def tagging():
    s3.put_object_tagging(Bucket="bkt1", Key="k", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    assert s3.get_object_tagging(Bucket="bkt1", Key="k")["TagSet"] == [{"Key": "env", "Value": "prod"}]
    h = s3.head_object(Bucket="bkt1", Key="k")
    assert h["Metadata"] == {"color": "red"} and h["ContentType"] == "text/plain", "tagging kept the metadata"
    s3.delete_object_tagging(Bucket="bkt1", Key="k")
    assert s3.get_object_tagging(Bucket="bkt1", Key="k")["TagSet"] == []
    s3.put_object(Bucket="bkt1", Key="tagged", Body=b"t", Tagging="a=1&b=two%20words")
    assert s3.get_object_tagging(Bucket="bkt1", Key="tagged")["TagSet"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    expect_error("InvalidTag", 400, s3.put_object_tagging, Bucket="bkt1", Key="k", Tagging={"TagSet": tags})
    expect_error("NoSuchKey", 404, s3.get_object_tagging, Bucket="bkt1", Key="missing")


@check
def acls():
    tester3 = client("test:tester3", "testing3")
    s3.put_object(Bucket="bkt2", Key="shared", Body=b"shared data")
    expect_error("AccessDenied", 403, tester3.get_object, Bucket="bkt2", Key="shared")
    acl = s3.get_bucket_acl(Bucket="bkt2")
    assert acl["Owner"]["ID"] == "test:tester" and [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    s3.put_bucket_acl(Bucket="bkt2", ACL="public-read")
    grants = s3.get_bucket_acl(Bucket="bkt2")["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [g["Grantee"] for g in grants]
    assert tester3.get_object(Bucket="bkt2", Key="shared")["Body"].read() == b"shared data"
    expect_error("AccessDenied", 403, tester3.put_object, Bucket="bkt2", Key="by-3", Body=b"x")
    s3.put_bucket_acl(Bucket="bkt2", ACL="private")
    expect_error("AccessDenied", 403, tester3.get_object, Bucket="bkt2", Key="shared")
    s3.put_bucket_acl(Bucket="bkt2", GrantRead='id="test:tester3"', GrantWrite='id="test:tester3"')
    tester3.put_object(Bucket="bkt2", Key="by-3", Body=b"x")
    grants = s3.get_bucket_acl(Bucket="bkt2")["Grants"]
    assert sorted(g["Permission"] for g in grants if g["Grantee"].get("ID") == "test:tester3") == ["READ", "WRITE"]
    s3.put_bucket_acl(Bucket="bkt2", AccessControlPolicy={
        "Owner": {"ID": "test:tester"},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "test:tester"}, "Permission": "FULL_CONTROL"}]})
    expect_error("AccessDenied", 403, tester3.get_object, Bucket="bkt2", Key="shared")
    expect_error("AccessDenied", 403, tester3.list_buckets)
    s3.create_bucket(Bucket="b-public", ACL="public-read-write")
    tester3.put_object(Bucket="b-public", Key="w", Body=b"w")
    r = raw("PUT", "/bkt2", "acl", {}, b"<AccessControlPolicy><nope/></AccessControlPolicy>")
    assert r.status_code == 400 and error_code(r) == "MalformedACLError", r.content
    assert s3.get_object_acl(Bucket="bkt1", Key="k")["Grants"][0]["Permission"] == "FULL_CONTROL"
    s3.put_object_acl(Bucket="bkt1", Key="k", ACL="private")
    expect_error("NotImplemented", 501, s3.put_object_acl, Bucket="bkt1", Key="k", ACL="public-read")


@check
def versioning_and_configs():
    assert "Status" not in s3.get_bucket_versioning(Bucket="bkt1")
    s3.put_bucket_versioning(Bucket="bkt1", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="bkt1")["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket="bkt1", VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket="bkt1")["Status"] == "Suspended"
    r = raw("PUT", "/bkt1", "versioning", {}, b"<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>")
    assert r.status_code == 400 and error_code(r) == "MalformedXML", r.content
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket="bkt1")
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket="bkt1")
    expect_error("NotImplemented", 501, s3.get_bucket_website, Bucket="bkt1")  # bucket policies are served now (s3_post_policy)


def upload_parts(bucket, key, sizes, **create):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    parts, data = [], b""
    for n, size in enumerate(sizes, 1):
        chunk = os.urandom(size)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=chunk)
        assert r["ETag"] == '"%s"' % hashlib.md5(chunk).hexdigest()
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
        data += chunk
    return up, parts, data


@check
def multipart():
    up, parts, data = upload_parts("bkt1", "big/obj", [5 * MiB, 5 * MiB], ContentType="application/x-mp",
                                   Metadata={"kind": "multi"})
    lp = s3.list_parts(Bucket="bkt1", Key="big/obj", UploadId=up)
    assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [(1, 5 * MiB), (2, 5 * MiB)], lp
    lp = s3.list_parts(Bucket="bkt1", Key="big/obj", UploadId=up, MaxParts=1)
    assert lp["IsTruncated"] and lp["NextPartNumberMarker"] == 1
    ups = s3.list_multipart_uploads(Bucket="bkt1")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in ups] == [("big/obj", up)], ups
    r = s3.upload_part_copy(Bucket="bkt1", Key="big/obj", UploadId=up, PartNumber=3, CopySource="bkt1/k2",
                            CopySourceRange="bytes=0-4")
    parts.append({"PartNumber": 3, "ETag": r["CopyPartResult"]["ETag"]})
    data += b"hello"
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket="bkt1", Key="big/obj", UploadId=up,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]})
    expect_error("InvalidPartOrder", 400, s3.complete_multipart_upload, Bucket="bkt1", Key="big/obj", UploadId=up,
                 MultipartUpload={"Parts": [parts[1], parts[0]]})
    r = s3.complete_multipart_upload(Bucket="bkt1", Key="big/obj", UploadId=up, MultipartUpload={"Parts": parts})
    md5s = hashlib.md5(b"".join(bytes.fromhex(p["ETag"].strip('"')) for p in parts)).hexdigest()
    assert r["ETag"] == f'"{md5s}-3"', r
    g = s3.get_object(Bucket="bkt1", Key="big/obj")
    assert g["Body"].read() == data and g["ETag"] == f'"{md5s}-3"', g["ETag"]
    assert g["ContentType"] == "application/x-mp" and g["Metadata"] == {"kind": "multi"}, g
    assert s3.get_object(Bucket="bkt1", Key="big/obj", Range="bytes=5242878-5242881")["Body"].read() == data[5242878:5242882]
    # Conditionals compare with the multipart ETag the client was shown (s3transfer sends
    # If-Match on each ranged GET of a download).
    ranged = s3.get_object(Bucket="bkt1", Key="big/obj", Range="bytes=0-3", IfMatch=f'"{md5s}-3"')
    assert ranged["Body"].read() == data[:4]
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket="bkt1", Key="big/obj", IfMatch=f'"{md5s}"')
    expect_error("304", 304, s3.get_object, Bucket="bkt1", Key="big/obj", IfNoneMatch=f'"{md5s}-3"')
    listed = s3.list_objects_v2(Bucket="bkt1", Prefix="big/")["Contents"][0]
    assert listed["Size"] == len(data), listed
    assert s3.list_multipart_uploads(Bucket="bkt1").get("Uploads", []) == []
    again = s3.complete_multipart_upload(Bucket="bkt1", Key="big/obj", UploadId=up, MultipartUpload={"Parts": parts})
    assert again["ETag"] == r["ETag"], "a retried Complete answers the same"
    up2, parts2, _ = upload_parts("bkt1", "aborted", [MiB, MiB])
    expect_error("EntityTooSmall", 400, s3.complete_multipart_upload, Bucket="bkt1", Key="aborted", UploadId=up2,
                 MultipartUpload={"Parts": parts2})
    s3.abort_multipart_upload(Bucket="bkt1", Key="aborted", UploadId=up2)
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket="bkt1", Key="aborted", UploadId=up2)
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket="bkt1", Key="aborted", UploadId=up2, PartNumber=1, Body=b"x")
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket="bkt1", Key="aborted", UploadId=up2)
    expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket="bkt1", Key="aborted", UploadId=up2,
                 MultipartUpload={"Parts": parts2})
    # Parts left out of the object are deleted, and so are the segments of the multipart
    # object a new one replaces.
    sw = swiftclient.client.Connection(authurl=AUTH, user="test:tester", key="testing")
    for round_ in range(2):
        upr, partsr, _ = upload_parts("bkt1", "re/obj", [10, 20])
        s3.complete_multipart_upload(Bucket="bkt1", Key="re/obj", UploadId=upr,
                                     MultipartUpload={"Parts": partsr[:1]})
        segs = [o["name"] for o in sw.get_container("bkt1+segments", prefix="re/obj/")[1]]
        assert segs == [f"re/obj/{upr}/1"], (round_, segs)
    up3 = s3.create_multipart_upload(Bucket="bkt1", Key="p")["UploadId"]
    for n in (0, 10001):
        r = raw("PUT", "/bkt1/p", f"partNumber={n}&uploadId={up3}", {}, b"x")
        assert r.status_code == 400 and error_code(r) == "InvalidArgument", (n, r.content)
    r = raw("POST", "/bkt1/p", f"uploadId={up3}", {}, b"<CompleteMultipartUpload><Part>")
    assert r.status_code == 400 and error_code(r) == "MalformedXML", r.content
    # An oversize part is refused from its headers, before any byte is read.
    conn = http.client.HTTPConnection(HOSTPORT, timeout=10)
    h, *_ = sigv4.sign("PUT", HOSTPORT, "/bkt1/p", f"partNumber=1&uploadId={up3}", {}, "UNSIGNED-PAYLOAD",
                       "test:tester", "testing")
    h["content-length"] = str(6 << 30)
    conn.putrequest("PUT", f"/bkt1/p?partNumber=1&uploadId={up3}", skip_host=True, skip_accept_encoding=True)
    for k, v in h.items():
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 400 and b"EntityTooLarge" in resp.read(), resp.status
    s3.abort_multipart_upload(Bucket="bkt1", Key="p", UploadId=up3)


def segments_of(sw, key):
    return [o["name"] for o in sw.get_container("bkt1+segments", prefix=key + "/")[1]]


def complete(bucket, key, sizes):
    up, parts, data = upload_parts(bucket, key, sizes)
    r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": parts})
    return up, data, r


@check
def overwrites_free_segments():
    sw = swiftclient.client.Connection(authurl=AUTH, user="test:tester", key="testing")
    up_keep, _, _ = complete("bkt1", "ow/put-keep", [10])
    # PutObject over a multipart object deletes the old upload's segments, no one else's.
    up, _, _ = complete("bkt1", "ow/put", [5 * MiB, 10])
    assert segments_of(sw, "ow/put") == [f"ow/put/{up}/1", f"ow/put/{up}/2"]
    s3.put_object(Bucket="bkt1", Key="ow/put", Body=b"plain now")
    assert segments_of(sw, "ow/put") == [], segments_of(sw, "ow/put")
    assert segments_of(sw, "ow/put-keep") == [f"ow/put-keep/{up_keep}/1"]
    assert s3.get_object(Bucket="bkt1", Key="ow/put")["Body"].read() == b"plain now"
    assert s3.get_object(Bucket="bkt1", Key="ow/put-keep")["Body"].read()
    # CopyObject onto a multipart object.
    complete("bkt1", "ow/copy", [5 * MiB, 20])
    s3.copy_object(Bucket="bkt1", Key="ow/copy", CopySource="bkt1/k2")
    assert segments_of(sw, "ow/copy") == [] and s3.get_object(Bucket="bkt1", Key="ow/copy")["Body"].read() == b"hello world"
    # A multipart object copied onto itself becomes a plain copy of its content.
    _, data, _ = complete("bkt1", "ow/self", [5 * MiB, 10])
    s3.copy_object(Bucket="bkt1", Key="ow/self", CopySource="bkt1/ow/self", MetadataDirective="REPLACE")
    assert segments_of(sw, "ow/self") == [] and s3.get_object(Bucket="bkt1", Key="ow/self")["Body"].read() == data
    # A new multipart upload completing onto the key frees the old one's segments too.
    complete("bkt1", "ow/mp", [10])
    up2, data2, _ = complete("bkt1", "ow/mp", [20])
    assert segments_of(sw, "ow/mp") == [f"ow/mp/{up2}/1"] and s3.get_object(Bucket="bkt1", Key="ow/mp")["Body"].read() == data2
    # A failed overwrite (the precondition does not hold) leaves the object and its segments.
    up3, _, _ = complete("bkt1", "ow/kept", [10])
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket="bkt1", Key="ow/kept", Body=b"x", IfNoneMatch="*")
    assert segments_of(sw, "ow/kept") == [f"ow/kept/{up3}/1"]


def preflight(path, origin, method, headers=None):
    h = {"Access-Control-Request-Method": method}
    if origin:
        h["Origin"] = origin
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(f"{EP}{path}", headers=h)


@check
def cors():
    s3.create_bucket(Bucket="cors-b")
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket="cors-b")
    rules = [{"ID": "web", "AllowedHeaders": ["x-amz-*", "content-type"], "AllowedMethods": ["GET", "PUT"],
              "AllowedOrigins": ["https://*.example.com"], "ExposeHeaders": ["ETag", "x-amz-request-id"],
              "MaxAgeSeconds": 600},
             {"AllowedMethods": ["HEAD"], "AllowedOrigins": ["*"]}]
    s3.put_bucket_cors(Bucket="cors-b", CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket="cors-b")["CORSRules"] == rules
    s3.put_object(Bucket="cors-b", Key="obj", Body=b"cors body")
    origin = "https://app.example.com"
    r = preflight("/cors-b/obj", origin, "PUT", "X-Amz-Date, Content-Type")
    assert r.status_code == 200, r.content
    assert r.headers["Access-Control-Allow-Origin"] == origin, r.headers
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT", r.headers
    assert r.headers["Access-Control-Allow-Headers"] == "x-amz-date, content-type", r.headers
    assert r.headers["Access-Control-Max-Age"] == "600" and r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    r = preflight("/cors-b/obj", "http://anyone.test", "HEAD")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*", r.headers
    for o, m, hdrs in [("https://evil.test", "GET", None), (origin, "DELETE", None), (origin, "PUT", "authorization")]:
        r = preflight("/cors-b/obj", o, m, hdrs)
        assert r.status_code == 403 and error_code(r) == "AccessForbidden", (o, m, r.content)
        assert b"CORSResponse: This CORS request is not allowed" in r.content and "Access-Control-Allow-Origin" not in r.headers
    r = preflight("/cors-b/obj", None, "GET")
    assert r.status_code == 400 and error_code(r) == "BadRequest", r.content
    r = preflight("/bkt1/k", origin, "GET")
    assert r.status_code == 403 and error_code(r) == "AccessForbidden", r.content
    # Actual requests with a matching Origin get the headers; others do not.
    r = raw("GET", "/cors-b/obj", headers={"origin": origin}, payload_hash=sigv4.EMPTY)
    assert r.status_code == 200 and r.content == b"cors body", r.content
    assert r.headers["Access-Control-Allow-Origin"] == origin and r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    r = raw("GET", "/cors-b/obj", headers={"origin": "https://evil.test"}, payload_hash=sigv4.EMPTY)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers, r.headers
    for body, code in [
        (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"
         b"</CORSRule></CORSConfiguration>", "InvalidRequest"),
        (b"<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
         b"</CORSRule></CORSConfiguration>", "InvalidRequest"),
        (b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", "MalformedXML"),
        (b"<CORSConfiguration><CORSRule>", "MalformedXML"),
    ]:
        r = raw("PUT", "/cors-b", "cors", {}, body)
        assert r.status_code == 400 and error_code(r) == code, (body, r.content)
    assert s3.get_bucket_cors(Bucket="cors-b")["CORSRules"] == rules, "a refused configuration changed nothing"
    expect_error("NoSuchBucket", 404, s3.put_bucket_cors, Bucket="nope-bucket", CORSConfiguration={"CORSRules": rules})
    s3.delete_bucket_cors(Bucket="cors-b")
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket="cors-b")
    r = preflight("/cors-b/obj", origin, "GET")
    assert r.status_code == 403 and error_code(r) == "AccessForbidden", r.content


def expiration(value):
    """(expiry epoch, rule id) of an x-amz-expiration value."""
    import email.utils
    date = value.split('expiry-date="')[1].split('"')[0]
    rule = value.split('rule-id="')[1].split('"')[0]
    return int(email.utils.parsedate_to_datetime(date).timestamp()), rule


@check
def lifecycle():
    sw = swiftclient.client.Connection(authurl=AUTH, user="test:tester", key="testing")
    s3.create_bucket(Bucket="lc-b")
    s3.put_object(Bucket="lc-b", Key="logs/before", Body=b"written before the rule")
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket="lc-b")
    y2099 = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
    rules = [{"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 2}},
             {"ID": "fixed", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Date": y2099}},
             {"ID": "past", "Filter": {"Prefix": "gone/"}, "Status": "Enabled",
              "Expiration": {"Date": datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)}},
             {"ID": "off", "Filter": {"Prefix": ""}, "Status": "Disabled", "Expiration": {"Days": 1}}]
    s3.put_bucket_lifecycle_configuration(Bucket="lc-b", LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket="lc-b")["Rules"] == rules
    before = time.time()
    r = s3.put_object(Bucket="lc-b", Key="logs/a", Body=b"log line")
    at, rule = expiration(r["Expiration"])
    assert rule == "logs" and at % 86400 == 0 and before + 2 * 86400 <= at <= time.time() + 3 * 86400, r["Expiration"]
    assert sw.head_object("lc-b", "logs/a")["x-delete-at"] == str(at)
    assert expiration(s3.head_object(Bucket="lc-b", Key="logs/a")["Expiration"]) == (at, "logs")
    r = s3.put_object(Bucket="lc-b", Key="tmp/x", Body=b"t")
    assert expiration(r["Expiration"]) == (int(y2099.timestamp()), "fixed"), r["Expiration"]
    assert sw.head_object("lc-b", "tmp/x")["x-delete-at"] == str(int(y2099.timestamp()))
    r = s3.put_object(Bucket="lc-b", Key="other", Body=b"kept")
    assert "Expiration" not in r and "x-delete-at" not in sw.head_object("lc-b", "other"), r
    # Existing objects are not changed by a new rule.
    assert "x-delete-at" not in sw.head_object("lc-b", "logs/before")
    # Multipart objects and copies get the expiry too (and the segments a later one).
    up, _, r = complete("lc-b", "logs/mp", [10])
    at_mp, _ = expiration(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-expiration"])
    assert sw.head_object("lc-b", "logs/mp")["x-delete-at"] == str(at_mp)
    assert sw.head_object("lc-b+segments", f"logs/mp/{up}/1")["x-delete-at"] == str(at_mp + 86400)
    r = s3.copy_object(Bucket="lc-b", Key="logs/copied", CopySource="lc-b/other")
    assert expiration(r["Expiration"])[1] == "logs" and sw.head_object("lc-b", "logs/copied").get("x-delete-at")
    # A Date already past expires new objects at once; Swift stops serving them.
    s3.put_object(Bucket="lc-b", Key="gone/x", Body=b"short-lived")
    time.sleep(4.1)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="lc-b", Key="gone/x")
    rule = lambda exp, status="Enabled": (f"<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>p</Prefix></Filter>"
                                          f"<Status>{status}</Status>{exp}</Rule></LifecycleConfiguration>").encode()
    for body, code, status in [
        (rule("<Expiration><Days>0</Days></Expiration>"), "InvalidArgument", 400),
        (rule("<Expiration><Date>2099-01-01T12:00:00Z</Date></Expiration>"), "InvalidArgument", 400),
        (rule("<Expiration><Days>1</Days></Expiration>", "Maybe"), "MalformedXML", 400),
        (rule(""), "InvalidRequest", 400),
        (rule("<Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>"), "NotImplemented", 501),
        (b"<LifecycleConfiguration><Rule>", "MalformedXML", 400),
    ]:
        r = raw("PUT", "/lc-b", "lifecycle", {}, body)
        assert r.status_code == status and error_code(r) == code, (body, r.content)
    assert s3.get_bucket_lifecycle_configuration(Bucket="lc-b")["Rules"] == rules
    s3.delete_bucket_lifecycle(Bucket="lc-b")
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket="lc-b")
    r = s3.put_object(Bucket="lc-b", Key="logs/after", Body=b"x")
    assert "Expiration" not in r and "x-delete-at" not in sw.head_object("lc-b", "logs/after")


@check
def versions():
    sw = swiftclient.client.Connection(authurl=AUTH, user="test:tester", key="testing")
    s3.create_bucket(Bucket="ver-b")
    s3.put_bucket_versioning(Bucket="ver-b", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="ver-b", Key="doc", Body=b"v1")
    s3.put_object(Bucket="ver-b", Key="doc", Body=b"v2!")
    v = s3.list_object_versions(Bucket="ver-b", Prefix="doc")["Versions"]
    assert [(x["Key"], x["IsLatest"], x["Size"]) for x in v] == [("doc", True, 3), ("doc", False, 2)], v
    old = v[1]["VersionId"]
    assert old != "null" and s3.get_object(Bucket="ver-b", Key="doc", VersionId=old)["Body"].read() == b"v1"
    assert s3.get_object(Bucket="ver-b", Key="doc")["Body"].read() == b"v2!"
    # An overwritten multipart object is archived with its segments, so its old version reads whole.
    up, data, _ = complete("ver-b", "mp", [5 * MiB, 10])
    s3.put_object(Bucket="ver-b", Key="mp", Body=b"plain")
    segs = [o["name"] for o in sw.get_container("ver-b+segments", prefix="mp/")[1]]
    assert segs == [f"mp/{up}/1", f"mp/{up}/2"], segs
    vid = [x for x in s3.list_object_versions(Bucket="ver-b", Prefix="mp")["Versions"] if not x["IsLatest"]][0]
    assert s3.get_object(Bucket="ver-b", Key="mp", VersionId=vid["VersionId"])["Body"].read() == data
    # Deleting a multipart object in a versioned bucket keeps the segments its archived copy names.
    s3.delete_object(Bucket="ver-b", Key="mp")
    complete("ver-b", "mp2", [5 * MiB, 10])
    s3.delete_object(Bucket="ver-b", Key="mp2")
    assert len(sw.get_container("ver-b+segments", prefix="mp2/")[1]) == 2
    # Deleting the current object archives it; old versions stay readable until deleted.
    s3.delete_object(Bucket="ver-b", Key="doc")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="ver-b", Key="doc")
    assert s3.get_object(Bucket="ver-b", Key="doc", VersionId=old)["Body"].read() == b"v1"
    s3.delete_object(Bucket="ver-b", Key="doc", VersionId=old)
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket="ver-b", Key="doc", VersionId=old)
    # Written again, the key lists its delete as a DeleteMarker among its versions.
    s3.put_object(Bucket="ver-b", Key="doc", Body=b"v3")
    lv = s3.list_object_versions(Bucket="ver-b", Prefix="doc")
    assert [(x["IsLatest"], x["Size"]) for x in lv["Versions"]] == [(True, 2), (False, 3)], lv
    assert len(lv["DeleteMarkers"]) == 1 and not lv["DeleteMarkers"][0]["IsLatest"], lv


@check
def presigned_and_v2():
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt1", "Key": "k2"}, ExpiresIn=60)
    assert requests.get(url).content == b"hello world"
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "bkt1", "Key": "presigned"}, ExpiresIn=60)
    assert requests.put(put, data=b"via presigned put").status_code == 200
    assert s3.get_object(Bucket="bkt1", Key="presigned")["Body"].read() == b"via presigned put"
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    r = requests.get(tampered[: tampered.index("X-Amz-Signature=") + 16 + 64])
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch", r.content
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt1", "Key": "k2"}, ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(short)
    assert r.status_code == 403 and error_code(r) == "AccessDenied", r.content
    v2 = client(sig="s3")
    v2.put_object(Bucket="bkt1", Key="v2 obj", Body=b"signed v2", Metadata={"x": "y"})
    assert v2.get_object(Bucket="bkt1", Key="v2 obj")["Body"].read() == b"signed v2"
    assert "v2 obj" in [c["Key"] for c in v2.list_objects(Bucket="bkt1")["Contents"]]
    v2url = v2.generate_presigned_url("get_object", Params={"Bucket": "bkt1", "Key": "v2 obj"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in v2url and requests.get(v2url).content == b"signed v2"
    expect_error("SignatureDoesNotMatch", 403, client("test:tester", "wrong", sig="s3").list_buckets)


@check
def streaming_chunks():
    data = os.urandom(200_000)
    for key, tamper in [("chunked", False), ("chunked-bad", True)]:
        headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
        enc_len = len(sigv4.chunked_body(data, 65536, b"\0" * 32, "x", "y", "z"))
        headers["content-length"] = str(enc_len)
        h, skey, amz_date, scope, seed = sigv4.sign("PUT", HOSTPORT, f"/bkt1/{key}", "", headers,
                                                   "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "test:tester", "testing")
        body = sigv4.chunked_body(data, 65536, skey, amz_date, scope, seed, tamper)
        r = requests.put(f"{EP}/bkt1/{key}", headers=h, data=body)
        if tamper:
            assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch", r.content
            expect_error("NoSuchKey", 404, s3.get_object, Bucket="bkt1", Key=key)
        else:
            assert r.status_code == 200, r.content
            g = s3.get_object(Bucket="bkt1", Key=key)
            assert g["Body"].read() == data and g.get("ContentEncoding") is None, g


@check
def bad_auth():
    expect_error("SignatureDoesNotMatch", 403, client("test:tester", "wrong").list_buckets)
    expect_error("InvalidAccessKeyId", 403, client("nobody:x", "x").list_buckets)
    expect_error("InvalidAccessKeyId", 403, client("nocolon", "x").list_buckets)
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    r = raw("GET", "/", when=old)
    assert r.status_code == 403 and error_code(r) == "RequestTimeTooSkewed", r.content
    r = requests.get(f"{EP}/bkt1", headers={"Authorization": "AWS4-HMAC-SHA256 garbage", "x-amz-date": "20200101T000000Z"})
    assert r.status_code == 400 and error_code(r) == "AuthorizationHeaderMalformed", r.content
    r = requests.get(f"{EP}/bkt1", headers={"Authorization": "Bearer xyz"})
    assert r.status_code == 400 and error_code(r) == "InvalidArgument", r.content
    r = requests.get(f"{EP}/")
    assert r.status_code == 403 and error_code(r) == "AccessDenied", r.content
    assert r.headers.get("x-amz-request-id") and r.headers.get("x-amz-id-2")
    h, *_ = sigv4.sign("GET", HOSTPORT, "/", "", {}, sigv4.EMPTY, "test:tester", "testing")
    del h["x-amz-content-sha256"]
    r = requests.get(f"{EP}/", headers=h)
    assert r.status_code in (400, 403), r.content
    r = raw("PUT", "/bkt1/sha-mismatch", body=b"actual body", payload_hash=hashlib.sha256(b"other").hexdigest())
    assert r.status_code == 400 and error_code(r) == "XAmzContentSHA256Mismatch", r.content
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="bkt1", Key="sha-mismatch")
    big = os.urandom(3 * MiB)
    r = raw("PUT", "/bkt1/sha-mismatch", body=big, payload_hash=hashlib.sha256(big[:-1]).hexdigest())
    assert r.status_code == 400 and error_code(r) == "XAmzContentSHA256Mismatch", r.content
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="bkt1", Key="sha-mismatch")


@check
def virtual_hosted():
    r = raw("GET", "/k2", host=f"bkt1.localhost:{HOSTPORT.split(':')[1]}", payload_hash=sigv4.EMPTY)
    assert r.status_code == 200 and r.content == b"hello world", r.content
    r = raw("GET", "/", "list-type=2&prefix=k", host=f"bkt1.localhost:{HOSTPORT.split(':')[1]}", payload_hash=sigv4.EMPTY)
    assert r.status_code == 200 and b"<Key>k2</Key>" in r.content, r.content


@check
def swift_interop():
    sw = swiftclient.client.Connection(authurl=AUTH, user="test:tester", key="testing")
    hdrs, body = sw.get_object("bkt1", "k2")
    assert body == b"hello world" and hdrs["x-object-meta-color"] == "blue", hdrs
    hdrs, body = sw.get_object("bkt1", "big/obj")
    assert len(body) == 10 * MiB + 5 and hdrs.get("x-static-large-object") == "True", hdrs
    sw.put_container("from-swift")
    sw.put_object("from-swift", "dir/o", b"written by swift", headers={"X-Object-Meta-Origin": "swift"},
                  content_type="text/x-swift")
    g = s3.get_object(Bucket="from-swift", Key="dir/o")
    assert g["Body"].read() == b"written by swift" and g["Metadata"] == {"origin": "swift"}, g
    assert g["ContentType"] == "text/x-swift"
    assert "from-swift" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not any(n.endswith("+segments") for n in names), names
    s3.delete_object(Bucket="bkt1", Key="big/obj")
    # Only this object's segments go; other multipart objects (re/obj) keep theirs.
    _, segs = sw.get_container("bkt1+segments", prefix="big/obj/")
    assert segs == [], f"deleting a multipart object removes its segments: {segs}"


@check
def delete_buckets():
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket="bkt2")
    while True:
        objs = s3.list_objects_v2(Bucket="bkt2").get("Contents", [])
        if not objs:
            break
        s3.delete_objects(Bucket="bkt2", Delete={"Objects": [{"Key": o["Key"]} for o in objs]})
    s3.delete_bucket(Bucket="bkt2")
    expect_error("NoSuchBucket", 404, s3.delete_bucket, Bucket="bkt2")
    assert "bkt2" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


for fn in CHECKS:
    t = time.time()
    fn()
    print(f"ok {fn.__name__} ({time.time() - t:.2f}s)", flush=True)
print("all S3 checks passed")
