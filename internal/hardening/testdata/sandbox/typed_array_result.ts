// expect: result
// 8 MiB fits the memory limit; as a result it would become 2^23 JSON values. The size is
// refused before anything is allocated for them.
return new Uint8Array(2 ** 23);
