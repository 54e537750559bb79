/** Every way a dataset can be refused, each with its own code, so callers and tests can tell them apart. */
export type DataErrorCode =
  | 'truncated' // a file is not a whole number of records
  | 'record-count' // more records than the official file holds, or none
  | 'label-range' // a label outside the dataset's classes
  | 'bad-archive' // not a readable gzip/tar stream
  | 'checksum' // MD5 or SHA-256 differs from the expected one
  | 'missing' // a required file is absent
  | 'unknown-files' // nothing that looks like CIFAR
  | 'network'; // the download failed

export class DataError extends Error {
  constructor(
    readonly code: DataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DataError';
  }
}
