"""Safety checks for uploaded .zip archives, made on the central directory before any entry is read.

Entries are only ever read into memory, never extracted, so '../' and absolute names cannot write
anywhere; they are still refused because no honest image set contains them.
"""
import io
import os
import zipfile
from pathlib import Path, PurePosixPath

from .errors import DatasetError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def zip_limits():
    """(max entries, max total uncompressed bytes, max compression ratio), from the environment."""
    return (int(os.environ.get("GAN_STUDIO_ZIP_MAX_ENTRIES", 200_000)),
            int(float(os.environ.get("GAN_STUDIO_ZIP_MAX_MB", 4096)) * 2**20),
            float(os.environ.get("GAN_STUDIO_ZIP_MAX_RATIO", 200)))


def checked_zip_members(archive, name):
    """(image entries, number of non-image files skipped) of a ZipFile called `name`, or a DatasetError
    naming the limit it breaks or saying it holds no images."""
    infos = safe_zip_files(archive)
    images = [info for info in infos if PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES
              and not PurePosixPath(info.filename).name.startswith(".")]
    if not images:
        raise DatasetError(f"no images found in {name} ({len(infos)} other files)")
    return images, len(infos) - len(images)


def safe_zip_files(archive):
    """The file entries of a ZipFile, or a DatasetError naming the limit it breaks (entries, size, an unsafe path,
    a zip bomb's compression ratio)."""
    max_entries, max_bytes, max_ratio = zip_limits()
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > max_entries:
        raise DatasetError(f"the archive has {len(infos):,} files, more than the limit of {max_entries:,}")
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise DatasetError(f"the archive unpacks to {total / 2**20:,.0f} MB, more than the limit of "
                           f"{max_bytes / 2**20:,.0f} MB")
    for info in infos:
        entry = PurePosixPath(info.filename.replace("\\", "/"))
        if entry.is_absolute() or ".." in entry.parts or ":" in info.filename:
            raise DatasetError(f"the archive holds an unsafe path '{info.filename}'; refusing it")
        if info.file_size > 2**20 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise DatasetError(f"'{info.filename}' expands {info.file_size / max(info.compress_size, 1):,.0f}×"
                               " (a zip bomb?); refusing the archive")
    return infos


def open_zip(source, name):
    """zipfile.ZipFile(source), or a DatasetError when its directory is not a valid one (a damaged or forged zip
    makes zipfile raise several kinds of error)."""
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as error:
        raise DatasetError(f"{name} is not a valid .zip file") from error


def stage_zip_upload(name, data, folder):
    """Check an uploaded .zip (a zip at all, within the limits, with images in it), then write it into
    `folder`; returns its path. Nothing is written for a refused upload."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DatasetError(f"{name} is not a valid .zip file")
    with open_zip(io.BytesIO(data), name) as archive:
        checked_zip_members(archive, name)
    path = Path(folder) / "upload.zip"
    path.write_bytes(data)
    return path
