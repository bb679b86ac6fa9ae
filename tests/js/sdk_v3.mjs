// The AWS SDK for JavaScript v3 (@aws-sdk/client-s3 with its default checksums, and
// @aws-sdk/lib-storage's Upload for a multipart upload in 5 MiB parts): small and multipart
// uploads, listing, byte-exact downloads, delete, an empty listing.
// Usage: node sdk_v3.mjs <endpoint>   (over https, NODE_EXTRA_CA_CERTS names the CA to trust)
import { randomBytes } from "node:crypto";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command,
  DeleteObjectCommand, HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const endpoint = process.argv[2];
const s3 = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "test:tester", secretAccessKey: "testing" },
  maxAttempts: 1, // no retries: a failure must show
});
const check = (ok, what) => { if (!ok) throw new Error(`check failed: ${what}`); };
const bytes = async (key) => {
  const r = await s3.send(new GetObjectCommand({ Bucket: "jssdk", Key: key }));
  return Buffer.from(await r.Body.transformToByteArray());
};

await s3.send(new CreateBucketCommand({ Bucket: "jssdk" }));
const small = randomBytes(100_000);
await s3.send(new PutObjectCommand({ Bucket: "jssdk", Key: "small", Body: small }));
console.log("ok: small upload");

const big = randomBytes(12 << 20);
const up = new Upload({
  client: s3, params: { Bucket: "jssdk", Key: "big", Body: big }, partSize: 5 << 20, queueSize: 2,
  leavePartsOnError: false,
});
await up.done();
const head = await s3.send(new HeadObjectCommand({ Bucket: "jssdk", Key: "big" }));
check(head.ContentLength === big.length, `big length ${head.ContentLength}`);
check(/-3"?$/.test(head.ETag), `a 12 MiB upload in 5 MiB parts has a 3-part ETag: ${head.ETag}`);
console.log("ok: multipart upload");

const keys = (await s3.send(new ListObjectsV2Command({ Bucket: "jssdk" }))).Contents.map((o) => o.Key).sort();
check(JSON.stringify(keys) === '["big","small"]', `listing ${keys}`);
check((await bytes("small")).equals(small), "small reads back byte-exact");
check((await bytes("big")).equals(big), "big reads back byte-exact");
console.log("ok: list and downloads");

for (const k of keys) await s3.send(new DeleteObjectCommand({ Bucket: "jssdk", Key: k }));
const after = await s3.send(new ListObjectsV2Command({ Bucket: "jssdk" }));
check((after.KeyCount ?? 0) === 0 && !after.Contents, `empty after delete: ${JSON.stringify(after.Contents)}`);
console.log("all JS SDK checks passed");
