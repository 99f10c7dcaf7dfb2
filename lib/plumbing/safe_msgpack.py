"""Reading msgpack files written by phases 2 and 3 without trusting them.

msgpack stores a length before every array, map and string; a damaged length could ask the
unpacker for gigabytes. No container in a file can have more elements than the file has bytes,
so the file size is a safe limit for all of them. Everything a damaged file can make the
unpacker or the code that interprets its result raise is listed once, in `DAMAGE_ERRORS`.
"""
import msgpack

DAMAGE_ERRORS = (
    msgpack.UnpackException, ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError,
)


def limits_for(file_size, streaming=False):
    """Keyword arguments for msgpack.unpackb (or, streaming=True, msgpack.Unpacker) that cap every
    length at the file's size."""
    limit = max(int(file_size), 1)
    limits = {"max_str_len": limit, "max_bin_len": limit, "max_array_len": limit, "max_map_len": limit,
              "max_ext_len": limit}
    if streaming:
        limits["max_buffer_size"] = limit
    return limits
