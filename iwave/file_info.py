"""What `iwave info` says of how a lossless file's tiles are coded: each
tile's colour form (YCoCg-R, the YCbCr planes of a JPEG, a palette) and
whether each of its component groups is coded on the wavelet, pixel by
pixel (file format 20) or as context-coded indices. Reads only what the
streams start with, never their samples."""
from iwave import bitstream, lifting_paths, palette, sample_map, ycbcr
from iwave.decoder import STREAM_FORMATS, is_palette_tile
from iwave.entropy import EntropyError, ValueDecoder
from iwave.errors import IWaveError


def lossless_tiles(model, header, chunks):
    """{"colour": ..., "coding": ...} of a lossless file coded with `model`
    ("coding" from file format 13 on, when groups name their transform);
    several kinds are counted ("wavelet (3 of 4 groups), ..."). IWaveError
    for a corrupt tile."""
    fmt = STREAM_FORMATS[header.version]
    forms, codings = [], []
    for t in range(len(chunks) // header.components):
        tile = chunks[t * header.components:(t + 1) * header.components]
        try:
            form, groups = _tile(model, header, fmt, tile)
        except EntropyError as e:
            raise IWaveError(f"file is corrupt ({e})") from None
        forms.append(form)
        codings += groups
    out = {"colour": _tally(forms, "tiles")}
    if fmt.lifting_paths:
        out["coding"] = _tally(codings, "groups")
    return out


def _tally(kinds, unit):
    seen = list(dict.fromkeys(kinds))
    return seen[0] if len(seen) == 1 else ", ".join(
        f"{k} ({kinds.count(k)} of {len(kinds)} {unit})" for k in seen)


def _tile(model, header, fmt, tile):
    """(colour form, how each group is coded) of one tile's chunks."""
    def coding(stream, decoder=None):
        if not fmt.lifting_paths:          # (before format 13 every group is on the wavelet)
            return "wavelet"
        decoder = decoder or ValueDecoder(stream, model.tables)
        if lifting_paths.read(decoder, fmt.pixels) == lifting_paths.PIXELS:
            return "pixel by pixel"
        direct = fmt.sample_map and sample_map.read_flagged(decoder, header.bit_depth, fmt.palette)[1]
        return "indices" if direct else "wavelet"

    first = ValueDecoder(tile[0], model.tables)
    if is_palette_tile(header, tile):       # (one group: the indices; the other chunks are empty)
        palette.read(first, header.components)
        return "palette", [coding(tile[0], first)]
    alpha = [coding(tile[-1])] if header.has_alpha else []
    colour = header.colour == bitstream.COLOUR_YCOCG_R
    form = ycbcr.read(first, header.tile ** 2, fmt.subsampled) if colour and fmt.ycbcr else None
    name = ("YCoCg-R" if form is None else form.name) if colour else "none"
    if form is not None and form.phase is not None:      # Y, Cb, Cr: a grey group each, own streams
        return name, [coding(tile[0], first)] + [coding(c) for c in tile[1:3]] + alpha
    return name, [coding(tile[0], first)] + alpha
