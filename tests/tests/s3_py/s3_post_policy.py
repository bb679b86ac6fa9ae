"""Anonymous access to public buckets, bucket policies and browser uploads (POST Object),
through the real boto3 and plain HTTP (requests). Usage: s3_post_policy.py <endpoint>
[section...] (sections: public, policy, post; all by default). Any failure raises."""

import json
import sys

import boto3
import requests

sys.dont_write_bytecode = True
import s3check  # noqa: E402
from s3check import code_of, expect_error, run_checks  # noqa: E402

EP = sys.argv[1].rstrip("/")
SECTIONS = sys.argv[2:] or ["public", "policy", "post"]


def client(key="test:tester", secret="testing", sig="s3v4"):
    return s3check.client(EP, key, secret, sig)


owner = client()
stranger = client("test2:tester2", "testing2")  # another account
member = client("test:tester3", "testing3")  # the owner's account, no rights of its own


def anon(method, path, **kw):
    return requests.request(method, EP + path, **kw)


def public_buckets():
    owner.create_bucket(Bucket="pub-read", ACL="public-read")
    owner.put_object(Bucket="pub-read", Key="hello.txt", Body=b"hello world", ContentType="text/plain")
    owner.create_bucket(Bucket="pub-rw", ACL="public-read-write")
    owner.create_bucket(Bucket="closed")
    owner.put_object(Bucket="closed", Key="secret", Body=b"no")
    r = anon("GET", "/pub-read/hello.txt")
    assert r.status_code == 200 and r.content == b"hello world", (r.status_code, r.text)
    assert r.headers["content-type"] == "text/plain", r.headers
    r = anon("HEAD", "/pub-read/hello.txt")
    assert r.status_code == 200 and r.headers["content-length"] == "11", (r.status_code, r.headers)
    r = anon("GET", "/pub-read?list-type=2")
    assert r.status_code == 200 and "<Key>hello.txt</Key>" in r.text, (r.status_code, r.text)
    # Virtual-hosted style names the bucket by the host.
    r = anon("GET", "/hello.txt", headers={"Host": "pub-read.localhost"})
    assert r.status_code == 200 and r.content == b"hello world", (r.status_code, r.text)
    # public-read is not writable; public-read-write is, and what is written is the owner's.
    r = anon("PUT", "/pub-read/planted", data=b"x")
    assert r.status_code == 403 and code_of(r) == "AccessDenied", (r.status_code, r.text)
    r = anon("PUT", "/pub-rw/dropped", data=b"from a stranger")
    assert r.status_code == 200 and r.headers.get("etag"), (r.status_code, r.text)
    assert owner.get_object(Bucket="pub-rw", Key="dropped")["Body"].read() == b"from a stranger"
    r = anon("DELETE", "/pub-rw/dropped")
    assert r.status_code == 204, (r.status_code, r.text)
    # Private buckets, bucket configuration and bucket creation stay refused.
    for method, path in [("GET", "/closed/secret"), ("HEAD", "/closed/secret"), ("GET", "/closed"),
                         ("PUT", "/closed/x"), ("DELETE", "/closed/secret"), ("GET", "/pub-read?acl"),
                         ("PUT", "/pub-read?acl"), ("DELETE", "/pub-rw"), ("GET", "/pub-read?policy"),
                         ("GET", "/no-such-bucket-anywhere/k"), ("PUT", "/brand-new"), ("GET", "/"),
                         ("POST", "/pub-rw?delete"), ("POST", "/pub-rw/k?uploads")]:
        r = anon(method, path, data=b"x" if method in ("PUT", "POST") else None)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    # The bucket namespace is shared: another account cannot take the name; its reads
    # go to the one bucket, with that bucket's rights.
    expect_error("BucketAlreadyExists", 409, stranger.create_bucket, Bucket="closed")
    expect_error("BucketAlreadyOwnedByYou", 409, owner.create_bucket, Bucket="closed")
    assert stranger.get_object(Bucket="pub-read", Key="hello.txt")["Body"].read() == b"hello world"
    expect_error("AccessDenied", 403, stranger.get_object, Bucket="closed", Key="secret")
    print("ok anonymous reads of public buckets, writes to public-read-write, private ones refused")


def put_policy(bucket, *statements):
    owner.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def bucket_policies():
    owner.create_bucket(Bucket="pol")
    for key in ["public/a.txt", "public/secret.txt", "private/b.txt", "inbox/keep"]:
        owner.put_object(Bucket="pol", Key=key, Body=key.encode())
    expect_error("NoSuchBucketPolicy", 404, owner.get_bucket_policy, Bucket="pol")
    expect_error("NoSuchBucketPolicy", 404, owner.get_bucket_policy_status, Bucket="pol")
    put_policy("pol",
               {"Sid": "PublicPrefix", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::pol/public/*"},
               {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::pol/public/secret*"},
               {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::test2:user/tester2"]},
                "Action": ["s3:PutObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::pol", "arn:aws:s3:::pol/inbox/*"]},
               {"Effect": "Deny", "Principal": {"AWS": "test"}, "Action": "s3:DeleteObject",
                "Resource": "arn:aws:s3:::pol/inbox/*"})
    got = json.loads(owner.get_bucket_policy(Bucket="pol")["Policy"])
    assert got["Statement"][0]["Sid"] == "PublicPrefix", got
    assert owner.get_bucket_policy_status(Bucket="pol")["PolicyStatus"]["IsPublic"] is True
    # Principal * with a prefix wildcard: anonymous reads under public/ only.
    r = anon("GET", "/pol/public/a.txt")
    assert r.status_code == 200 and r.content == b"public/a.txt", (r.status_code, r.text)
    for path in ["/pol/public/secret.txt", "/pol/private/b.txt", "/pol"]:
        r = anon("GET", path)
        assert r.status_code == 403, (path, r.status_code, r.text)
    # An explicit Deny beats everything, the owner's own rights included.
    expect_error("AccessDenied", 403, owner.get_object, Bucket="pol", Key="public/secret.txt")
    expect_error("AccessDenied", 403, owner.delete_object, Bucket="pol", Key="inbox/keep")
    expect_error("AccessDenied", 403, owner.delete_objects, Bucket="pol", Delete={"Objects": [{"Key": "private/b.txt"}]})
    owner.delete_object(Bucket="pol", Key="private/none")  # outside the Deny's resource
    # Another account's user, named by ARN: writes and lists what it is allowed, no more.
    stranger.put_object(Bucket="pol", Key="inbox/from-test2", Body=b"hi")
    assert owner.get_object(Bucket="pol", Key="inbox/from-test2")["Body"].read() == b"hi"
    keys = [o["Key"] for o in stranger.list_objects_v2(Bucket="pol")["Contents"]]
    assert "inbox/from-test2" in keys and "private/b.txt" in keys, keys
    expect_error("AccessDenied", 403, stranger.put_object, Bucket="pol", Key="private/x", Body=b"x")
    expect_error("AccessDenied", 403, stranger.get_object, Bucket="pol", Key="private/b.txt")
    expect_error("AccessDenied", 403, stranger.get_bucket_policy, Bucket="pol")
    expect_error("AccessDenied", 403, stranger.delete_bucket_policy, Bucket="pol")
    expect_error("AccessDenied", 403, member.put_bucket_policy, Bucket="pol", Policy=json.dumps(got))
    # A deny beats an ACL allow: a public-read bucket with a Deny for one prefix.
    owner.create_bucket(Bucket="acl-deny", ACL="public-read")
    owner.put_object(Bucket="acl-deny", Key="open", Body=b"o")
    owner.put_object(Bucket="acl-deny", Key="hidden/x", Body=b"h")
    put_policy("acl-deny", {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::acl-deny/hidden/*"})
    assert anon("GET", "/acl-deny/open").status_code == 200
    r = anon("GET", "/acl-deny/hidden/x")
    assert r.status_code == 403 and code_of(r) == "AccessDenied", (r.status_code, r.text)
    assert owner.get_bucket_policy_status(Bucket="acl-deny")["PolicyStatus"]["IsPublic"] is False
    # aws:SourceIp is the TCP peer (127.0.0.1 here); X-Forwarded-For changes nothing.
    owner.create_bucket(Bucket="by-ip")
    owner.put_object(Bucket="by-ip", Key="k", Body=b"ip")
    put_policy("by-ip", {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": "arn:aws:s3:::by-ip/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    assert owner.get_bucket_policy_status(Bucket="by-ip")["PolicyStatus"]["IsPublic"] is False
    r = anon("GET", "/by-ip/k", headers={"X-Forwarded-For": "10.1.2.3"})
    assert r.status_code == 403, (r.status_code, r.text)
    put_policy("by-ip", {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": "arn:aws:s3:::by-ip/*", "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8"]}}})
    r = anon("GET", "/by-ip/k")
    assert r.status_code == 200 and r.content == b"ip", (r.status_code, r.text)
    put_policy("by-ip", {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::by-ip/*",
                         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    expect_error("AccessDenied", 403, owner.get_object, Bucket="by-ip", Key="k")
    # Malformed policies are refused with a reason; nothing is stored.
    for bad, reason in [("not json", "JSON"),
                        (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::other/*"}]}), "resource"),
                        (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObjectAcl",
                                                    "Resource": "arn:aws:s3:::by-ip/*"}]}), "action"),
                        (json.dumps({"Statement": [{"Effect": "Permit", "Principal": "*", "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::by-ip/*"}]}), "ffect"),
                        ("{" + " " * (20 * 1024) + "}", "20480")]:
        e = expect_error("MalformedPolicy", 400, owner.put_bucket_policy, Bucket="by-ip", Policy=bad)
        assert reason in e.response["Error"]["Message"], (reason, e.response["Error"])
    owner.delete_bucket_policy(Bucket="by-ip")
    expect_error("NoSuchBucketPolicy", 404, owner.get_bucket_policy, Bucket="by-ip")
    assert owner.get_object(Bucket="by-ip", Key="k")["Body"].read() == b"ip"
    assert anon("GET", "/by-ip/k").status_code == 403
    print("ok bucket policies: prefixes, principals, deny over allow and ACLs, SourceIp, status, malformed")


def presigned_post(bucket="posts", key="uploads/${filename}", expires=300, **fields):
    base = {"acl": "private", "success_action_status": "201", "Content-Type": "text/plain", "x-amz-meta-color": "blue"}
    base.update(fields)
    conditions = [{"acl": base["acl"]}, {"success_action_status": base["success_action_status"]},
                  ["starts-with", "$Content-Type", "text/"], {"x-amz-meta-color": "blue"},
                  ["content-length-range", 1, 1024]]
    return owner.generate_presigned_post(bucket, key, Fields=base, Conditions=conditions, ExpiresIn=expires)


def send(post, file=b"hello from a browser", filename="hello.txt", url=None, **changes):
    data = dict(post["fields"])
    for k, v in changes.items():
        k = k.replace("_", "-") if k.startswith("x_amz") else k
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return requests.post(url or post["url"], data=data, files={"file": (filename, file)}, allow_redirects=False)


def browser_uploads_v4():
    owner.create_bucket(Bucket="posts")
    owner.create_bucket(Bucket="posts-other")
    post = presigned_post()
    r = send(post)
    assert r.status_code == 201, (r.status_code, r.text)
    assert "<Key>uploads/hello.txt</Key>" in r.text and "<Bucket>posts</Bucket>" in r.text, r.text
    got = owner.get_object(Bucket="posts", Key="uploads/hello.txt")
    assert got["Body"].read() == b"hello from a browser"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"color": "blue"}, got
    assert r.headers["etag"] == got["ETag"], (r.headers, got["ETag"])
    for status, want in [("200", 200), ("204", 204)]:
        r = send(presigned_post(success_action_status=status), filename=f"s{status}.txt")
        assert r.status_code == want and r.content == b"", (status, r.status_code, r.text)
    # A redirect answers 303 with bucket, key and etag in its query.
    post = owner.generate_presigned_post("posts", "redirected", Fields={"success_action_redirect": "https://app.example/done"},
                                         Conditions=[{"success_action_redirect": "https://app.example/done"}])
    r = send(post)
    assert r.status_code == 303, (r.status_code, r.text)
    loc = r.headers["location"]
    assert loc.startswith("https://app.example/done?bucket=posts&key=redirected&etag="), loc
    # Virtual-hosted style: the bucket is the host's.
    r = requests.post(EP + "/", headers={"Host": "posts.localhost"},
                      data=presigned_post(success_action_status="204")["fields"], files={"file": ("vhost.txt", b"v")})
    assert r.status_code == 204, (r.status_code, r.text)
    assert owner.get_object(Bucket="posts", Key="uploads/vhost.txt")["Body"].read() == b"v"
    print("ok POST Object (boto3 presigned POST, SigV4): 201 document, 200, 204, 303 redirect, virtual-hosted")


def denied(r, fragment, code="AccessDenied", status=403):
    assert r.status_code == status and code_of(r) == code, (fragment, r.status_code, r.text)
    assert fragment in r.text, (fragment, r.text)


def browser_upload_refusals():
    post = presigned_post()
    denied(send(post, key="elsewhere/x"), "Policy Condition failed")
    denied(send(post, acl="public-read"), "$acl")
    denied(send(post, **{"Content-Type": "image/png"}), "$content-type")
    denied(send(post, **{"x-amz-meta-color": "red"}), "$x-amz-meta-color")
    denied(send(post, success_action_status="200"), "$success_action_status")
    denied(send(post, **{"x-amz-meta-extra": "1"}), "Extra input fields: x-amz-meta-extra")
    denied(send(post, url=EP + "/posts-other"), "$bucket")
    r = send(post, file=b"x" * 2048)
    assert r.status_code == 400 and code_of(r) == "EntityTooLarge", (r.status_code, r.text)
    r = send(post, file=b"")
    assert r.status_code == 400 and code_of(r) == "EntityTooSmall", (r.status_code, r.text)
    denied(send(presigned_post(expires=-60)), "Policy expired")
    sig = post["fields"]["x-amz-signature"]
    r = send(post, **{"x-amz-signature": ("0" if sig[0] != "0" else "1") + sig[1:]})
    assert r.status_code == 403 and code_of(r) == "SignatureDoesNotMatch", (r.status_code, r.text)
    other = presigned_post(acl="public-read")["fields"]["policy"]
    r = send(post, policy=other, acl="public-read")
    assert r.status_code == 403 and code_of(r) == "SignatureDoesNotMatch", (r.status_code, r.text)
    r = send(post, key=None)
    assert r.status_code == 400 and code_of(r) == "InvalidArgument" and "key" in r.text, (r.status_code, r.text)
    r = send(post, policy="!!not base64!!")
    assert r.status_code == 400 and code_of(r) == "InvalidPolicyDocument", (r.status_code, r.text)
    r = requests.post(EP + "/posts", data=b"--nope\r\n", headers={"Content-Type": "multipart/form-data; boundary=XYZ"})
    assert r.status_code == 400 and code_of(r) == "MalformedPOSTRequest", (r.status_code, r.text)
    r = requests.post(EP + "/posts", data=post["fields"], files={"x-ignore-no-file": (None, "v")})  # no file part
    assert r.status_code == 400 and code_of(r) == "IncorrectNumberOfFilesInPostRequest", (r.status_code, r.text)
    big = dict(post["fields"], **{"x-ignore-pad": "p" * (40 * 1024)})
    r = requests.post(post["url"], data=big, files={"file": ("a.txt", b"x")})
    assert r.status_code == 400 and code_of(r) == "MaxPostPreDataLengthExceeded", (r.status_code, r.text)
    keys = [o["Key"] for o in owner.list_objects_v2(Bucket="posts").get("Contents", [])]
    assert keys == sorted(["redirected", "uploads/hello.txt", "uploads/s200.txt", "uploads/s204.txt",
                           "uploads/vhost.txt"]), keys
    # The refused uploads (too large, too small: same key) left the stored object alone.
    assert owner.get_object(Bucket="posts", Key="uploads/hello.txt")["Body"].read() == b"hello from a browser"
    print("ok POST Object refusals: each condition, extra fields, bucket, sizes, expiry, tampering, malformed forms")


def browser_uploads_v2_and_anonymous():
    import base64
    import datetime
    import hashlib
    import hmac
    expiration = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    doc = {"expiration": expiration, "conditions": [{"bucket": "posts"}, ["eq", "$key", "v2/file"],
                                                    ["content-length-range", 0, 100]]}
    policy = base64.b64encode(json.dumps(doc).encode()).decode()
    signature = base64.b64encode(hmac.new(b"testing", policy.encode(), hashlib.sha1).digest()).decode()
    fields = {"key": "v2/file", "AWSAccessKeyId": "test:tester", "policy": policy, "signature": signature}
    r = requests.post(EP + "/posts", data=fields, files={"file": ("f", b"signed v2")})
    assert r.status_code == 204, (r.status_code, r.text)
    assert owner.get_object(Bucket="posts", Key="v2/file")["Body"].read() == b"signed v2"
    r = requests.post(EP + "/posts", data=dict(fields, signature=signature[:-4] + "AAA="), files={"file": ("f", b"x")})
    assert r.status_code == 403 and code_of(r) == "SignatureDoesNotMatch", (r.status_code, r.text)
    r = requests.post(EP + "/posts", data=dict(fields, AWSAccessKeyId="test:nobody"), files={"file": ("f", b"x")})
    assert r.status_code == 403 and code_of(r) == "InvalidAccessKeyId", (r.status_code, r.text)
    # No policy: anonymous, allowed only where everyone may write.
    owner.create_bucket(Bucket="posts-open", ACL="public-read-write")
    r = requests.post(EP + "/posts-open", data={"key": "anon/${filename}"}, files={"file": ("a.bin", b"anonymous")})
    assert r.status_code == 204, (r.status_code, r.text)
    assert owner.get_object(Bucket="posts-open", Key="anon/a.bin")["Body"].read() == b"anonymous"
    r = requests.post(EP + "/posts", data={"key": "anon"}, files={"file": ("a.bin", b"anonymous")})
    assert r.status_code == 403 and code_of(r) == "AccessDenied", (r.status_code, r.text)
    r = requests.post(EP + "/no-such-bucket-anywhere", data={"key": "anon"}, files={"file": ("a", b"a")})
    assert r.status_code == 403, (r.status_code, r.text)
    print("ok POST Object: SigV2 form by hand, anonymous to public-read-write only")


checks = {"public": [public_buckets], "policy": [bucket_policies], "post": [browser_uploads_v4, browser_upload_refusals, browser_uploads_v2_and_anonymous]}
run_checks([check for section in SECTIONS for check in checks[section]], "all S3 POST and policy checks passed")
