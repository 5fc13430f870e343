"""A preview JPEG from a running camera's YUV420 frame, made in memory.

picamera2 hands a YUV420 frame as one (height * 3/2, stride) array: the
Y plane's rows, then U and V at half the size each way with half the
stride. Every ``step``-th pixel of each plane is kept (no filtering: a
framing picture, not a still) and simplejpeg, which comes with
picamera2, encodes the planes as they are.

>>> import numpy as np
>>> frame = np.full((48 * 3 // 2, 64), 128, dtype=np.uint8)
>>> y, u, v = planes(frame, (64, 48), 64, step=2)
>>> y.shape, u.shape, v.shape
((24, 32), (12, 16), (12, 16))
"""

import numpy as np


def planes(frame: np.ndarray, size: tuple[int, int], stride: int, step: int = 1):
    """The Y, U and V planes of a picamera2 YUV420 frame, every ``step``-th
    pixel, each cut to what JPEG's 4:2:0 needs (even Y, half-size U/V)."""
    width, height = size
    flat = frame.reshape(-1)
    half_w, half_h, half_stride = width // 2, height // 2, stride // 2
    y = flat[:height * stride].reshape(height, stride)[:, :width]
    u_at = height * stride
    v_at = u_at + half_h * half_stride
    u = flat[u_at:v_at].reshape(half_h, half_stride)[:, :half_w]
    v = flat[v_at:v_at + half_h * half_stride].reshape(half_h, half_stride)[:, :half_w]
    y, u, v = y[::step, ::step], u[::step, ::step], v[::step, ::step]
    rows, cols = u.shape[0] * 2, u.shape[1] * 2
    return (np.ascontiguousarray(y[:rows, :cols]), np.ascontiguousarray(u),
            np.ascontiguousarray(v))


def yuv420_jpeg(frame: np.ndarray, size: tuple[int, int], stride: int, width: int,
                quality: int = 80) -> bytes:
    import simplejpeg
    step = max(1, size[0] // width)
    y, u, v = planes(frame, size, stride, step)
    return simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality=quality)
