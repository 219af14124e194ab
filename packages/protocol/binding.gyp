{
  "targets": [
    {
      "target_name": "sluice_crc32c",
      "sources": ["native/crc32c.c"],
      "cflags": ["-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
