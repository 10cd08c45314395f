// s3rver 3.7.1 with three deviations from S3 fixed, so the store contract tests Berth, not
// s3rver: (1) listings walk its folders in readdir order, while S3 lists keys in byte order
// (and pages by it); (2) `Range: bytes=0-0` returns the whole object (end 0 read as "no end");
// (3) a PUT truncates the object's file in place, and answers before its bytes are written,
// so a reader could see a mix or a part: here it writes a temp file, waits for it, and
// renames it into place (S3: a reader sees the old object or the new one).
// Then its own command line runs unchanged. (It also checks no signatures beyond the key id.)
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

require("s3rver/bin/s3rver.js");
