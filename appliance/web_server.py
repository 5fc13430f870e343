"""The page's HTTP server (waitress), set so that no byte of a request
or a response is ever written to a file.

waitress buffers what a slow reader has not taken yet, and what a client
sends before the app reads it; past ``outbuf_overflow`` (1 MiB) and
``inbuf_overflow`` (512 KiB) it moves those buffers into
``tempfile.TemporaryFile()``: unlinked files under /tmp, on the card
outside the encrypted store, holding decrypted footage (up to 16 MiB a
connection: its ``outbuf_high_watermark``). Here they never overflow:

- a response waits in memory, and the app's thread blocks once
  :data:`OUTPUT_WATERMARK` bytes wait for a client (each write is one of
  the media route's 256 KiB blocks, so a connection holds a few MiB);
- a request body over :data:`MAX_BODY` (the app's own limit) is refused
  with 413 from its Content-Length, before a byte of it is read, and one
  sent chunked is cut off at the limit; below it, it stays in memory.

>>> options = server_options()
>>> options["outbuf_overflow"] > options["outbuf_high_watermark"]
True
>>> options["inbuf_overflow"] > options["max_request_body_size"]
True
"""

# the app's MAX_CONTENT_LENGTH: no form or JSON the page sends is larger
MAX_BODY = 1 << 20
OUTPUT_WATERMARK = 4 << 20
# larger than anything the watermark and the body limit let accumulate:
# the buffers never move to a file
NEVER = 1 << 62


def server_options(threads: int = 8) -> dict:
    """waitress's settings for the page (``waitress.serve(app, **options)``)."""
    return {"threads": threads, "ident": "vigbox",
            "outbuf_high_watermark": OUTPUT_WATERMARK, "outbuf_overflow": NEVER,
            "max_request_body_size": MAX_BODY, "inbuf_overflow": NEVER}
