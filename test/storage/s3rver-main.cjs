// s3rver 3.7.1 with three deviations from S3 fixed, so the store contract tests Berth, not
// s3rver: (1) listings walk its folders in readdir order, while S3 lists keys in byte order
// (and pages by it); (2) `Range: bytes=0-0` returns the whole object (end 0 read as "no end");
// (3) a PUT truncates the object's file in place, and answers before its bytes are written,
// so a reader could see a mix or a part: here it writes a temp file, waits for it, and
// renames it into place (S3: a reader sees the old object or the new one).
// (4) it answers UploadPartCopy with NotImplemented: a small front proxy here performs it the
// way S3 defines it (x-amz-copy-source, x-amz-copy-source-range; a CopyPartResult with the
// part's ETag) by reading the range from s3rver and uploading it as the part. Everything else
// passes through untouched. (s3rver checks no signatures beyond the key id.)
// Usage: node --openssl-legacy-provider s3rver-main.cjs DIR BUCKET... (BERTH_S3RVER_COPY=0: no
// UploadPartCopy, as s3rver itself); prints "S3rver listening on 127.0.0.1:PORT".
"use strict";
const fs = require("fs");
const path = require("path");
const utils = require("s3rver/lib/utils");

const SUFFIX = /\._S3rver_[^/]*$/;
/** Entries in key order: a folder `d` holds keys `d/...`, a file `k._S3rver_object` is key `k`. */
utils.walk = function* walk(dir, recurseFilter) {
  const entries = fs.readdirSync(dir).map((name) => {
    const isDirectory = fs.statSync(path.posix.join(dir, name)).isDirectory();
    return { name, isDirectory, sortKey: isDirectory ? `${name}/` : name.replace(SUFFIX, "") };
  });
  entries.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.name < b.name ? -1 : 1));
  for (const { name, isDirectory } of entries) {
    const filePath = path.posix.join(dir, name);
    if (!isDirectory) yield filePath;
    else if (!recurseFilter || recurseFilter(filePath)) yield* walk(filePath, recurseFilter);
  }
};

const FilesystemStore = require("s3rver/lib/stores/filesystem");
const getObject = FilesystemStore.prototype.getObject;
FilesystemStore.prototype.getObject = async function (bucket, key, options) {
  if (!options || options.end !== 0) return getObject.call(this, bucket, key, options);
  // end 0 is the first byte: read from 0 to the end, then keep one byte.
  const object = await getObject.call(this, bucket, key, { start: options.start });
  if (object && object.content && object.range) {
    object.content.destroy();
    object.content = fs.createReadStream(this.getResourcePath(bucket, key, "object"), { start: 0, end: 0 });
    object.range = { start: 0, end: 0 };
  }
  return object;
};

const crypto = require("crypto");
const { pipeline } = require("stream/promises");
const { Transform } = require("stream");
FilesystemStore.prototype.putObject = async function (object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, "object");
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const temp = `${path.dirname(objectPath)}/.tmp-${crypto.randomUUID()}`;
  const md5 = crypto.createHash("md5");
  let size = 0;
  const count = new Transform({
    transform(chunk, encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    const source = Buffer.isBuffer(object.content) ? require("stream").Readable.from([object.content]) : object.content;
    await pipeline(source, count, fs.createWriteStream(temp));
    const digest = md5.digest("hex");
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    await fs.promises.rename(temp, objectPath);
    return { size, md5: digest };
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
};

const http = require("http");
const S3rver = require("s3rver");

/** UploadPartCopy: GET the source range from s3rver, PUT it as the part, answer CopyPartResult. */
function copyPart(req, res, upstream) {
  const source = req.headers["x-amz-copy-source"].split("/").map(decodeURIComponent).join("/");
  const sourcePath = source.startsWith("/") ? source : `/${source}`;
  const auth = { authorization: req.headers.authorization, "x-amz-date": req.headers["x-amz-date"], "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
  const range = req.headers["x-amz-copy-source-range"];
  const fail = (status, code) => {
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
  };
  if (range !== undefined && !/^bytes=\d+-\d+$/.test(range)) return fail(400, "InvalidArgument");
  const get = http.request({ ...upstream, method: "GET", path: sourcePath.split("/").map(encodeURIComponent).join("/"), headers: { ...auth, ...(range ? { range } : {}) } }, (got) => {
    if (got.statusCode !== 200 && got.statusCode !== 206) {
      got.resume();
      return fail(got.statusCode === 404 ? 404 : 500, got.statusCode === 404 ? "NoSuchKey" : "InternalError");
    }
    const chunks = [];
    got.on("data", (chunk) => chunks.push(chunk));
    got.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = { ...auth, "content-length": String(body.length) };
      const put = http.request({ ...upstream, method: "PUT", path: req.url, headers }, (done) => {
        done.resume();
        if (done.statusCode !== 200) return fail(500, "InternalError");
        res.writeHead(200, { "content-type": "application/xml" });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>${done.headers.etag.replace(/"/g, "&quot;")}</ETag></CopyPartResult>`);
      });
      put.on("error", () => fail(500, "InternalError"));
      put.end(body);
    });
  });
  get.on("error", () => fail(500, "InternalError"));
  get.end();
}

async function main() {
  const [directory, ...buckets] = process.argv.slice(2);
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: !process.env.BERTH_S3RVER_LOGS, vhostBuckets: false, configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
  const { port } = await server.run();
  const upstream = { host: "127.0.0.1", port };
  const copies = process.env.BERTH_S3RVER_COPY !== "0";
  const front = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (copies && req.method === "PUT" && url.searchParams.has("uploadId") && req.headers["x-amz-copy-source"]) return copyPart(req, res, upstream);
    const forward = http.request({ ...upstream, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  front.listen(0, "127.0.0.1", () => console.log(`S3rver listening on 127.0.0.1:${front.address().port}`));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
