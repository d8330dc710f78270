"""Pillow reads and writes .iwv files once `import iwave` has run:

    Image.open("photo.iwv")                      # lazily: the header now, pixels on load()
    image.draft(None, (200, 150)); image.load()  # or image.reduce(4): decodes only the coarse subbands
    image.save("photo.iwv")                      # lossless (the default)
    image.save("photo.iwv", quality=80)          # lossy; quality as `iwave compress --quality`

Modes: L, LA, RGB, RGBA (8-bit) and I;16 (16-bit grey). Pillow has no
16-bit colour mode: such files are refused with a pointer to iwave.decompress.
"""
import numpy as np
from PIL import Image, ImageFile

from iwave import bitstream
from iwave.errors import IWaveError

FORMAT = "IWAVE"
MODES = {(1, 8): "L", (2, 8): "LA", (3, 8): "RGB", (4, 8): "RGBA", (1, 16): "I;16"}


def _accept(prefix):
    return prefix[:4] == bitstream.MAGIC


def _power_of_two_at_most(limit):
    scale = 1
    while scale * 2 <= limit:
        scale *= 2
    return scale


class IwaveImageFile(ImageFile.ImageFile):
    format = FORMAT
    format_description = "iwave learned wavelet image"

    def _open(self):
        self._data = self.fp.read()
        try:
            header, _ = bitstream.read(self._data)
        except IWaveError as e:
            raise SyntaxError(str(e)) from None
        mode = MODES.get((header.components, header.bit_depth))
        if mode is None:
            raise OSError(f"{header.components}-channel {header.bit_depth}-bit .iwv files have no "
                          "Pillow mode; read them with iwave.decompress")
        self._mode = mode
        self._full_size = self._size = (header.width, header.height)
        self._levels = header.levels
        for kind, key in (("icc", "icc_profile"), ("exif", "exif"), ("xmp", "xmp")):
            if kind in header.metadata:          # as Pillow's JPEG plugin gives them
                self.info[key] = (b"Exif\x00\x00" if kind == "exif" else b"") + header.metadata[kind]
        self._set_scale(1)

    def _set_scale(self, scale):
        self._scale = scale
        width, height = self._full_size
        self._size = (-(-width // scale), -(-height // scale))
        self.tile = [ImageFile._Tile("iwave", (0, 0) + self.size, 0, (scale,))]

    def draft(self, mode, size):
        """Decode at the smallest power-of-two reduction at least `size`
        (the transform's own low-pass image; see iwave decompress --scale)."""
        if mode not in (None, self.mode) or size is None or self._scale != 1 or not self.tile:
            return None
        width, height = self.size
        scale = _power_of_two_at_most(min(width // max(size[0], 1), height // max(size[1], 1),
                                          2 ** self._levels))
        if scale == 1:
            return None
        self._set_scale(scale)
        return self.mode, (0, 0, width / scale, height / scale)

    def reduce(self, factor, box=None):
        """A power-of-two reduction of the whole image comes from the
        pyramid without decoding the fine subbands."""
        if (box is None and self.tile and self._scale == 1 and isinstance(factor, int)
                and factor > 1 and factor & (factor - 1) == 0 and factor <= 2 ** self._levels):
            self._set_scale(factor)
            self.load()
            return self.copy()
        return super().reduce(factor, box)


class IwaveDecoder(ImageFile.PyDecoder):
    _pulls_fd = True

    def decode(self, buffer):
        from iwave.codec import decompress
        (scale,) = self.args
        data = self.fd.read()
        try:
            a = decompress(data) if scale == 1 else decompress(data, scale=1 / scale)
        except IWaveError as e:
            raise OSError(str(e)) from None
        self.set_as_raw(np.ascontiguousarray(a).tobytes(), "I;16" if a.dtype == np.uint16 else self.mode)
        return -1, 0


def _save(image, fp, filename):
    from iwave.codec import compress
    options = image.encoderinfo
    if image.mode not in MODES.values():
        raise OSError(f"cannot write mode {image.mode} as {FORMAT} (modes: {', '.join(MODES.values())})")
    a = np.asarray(image)
    if image.mode == "I;16":
        a = a.astype(np.uint16)
    quality = None if options.get("lossless") else options.get("quality")
    # as Pillow's PNG and JPEG plugins: the image's ICC profile unless given, EXIF and XMP if given
    exif = options.get("exif")
    exif = exif.tobytes() if isinstance(exif, Image.Exif) else exif
    metadata = {"icc": options.get("icc_profile", image.info.get("icc_profile")), "xmp": options.get("xmp"),
                "exif": exif[6:] if exif and exif.startswith(b"Exif\x00\x00") else exif}
    try:
        fp.write(compress(a, quality=quality, metadata={k: v for k, v in metadata.items() if v}))
    except IWaveError as e:
        raise OSError(str(e)) from None


def register():
    Image.register_open(FORMAT, IwaveImageFile, _accept)
    Image.register_decoder("iwave", IwaveDecoder)
    Image.register_save(FORMAT, _save)
    Image.register_extension(FORMAT, ".iwv")
    Image.register_mime(FORMAT, "image/x-iwave")


register()
