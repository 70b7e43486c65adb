import sys

from .errors import TORCH_CANNOT_LOAD, torch_cannot_load

try:
    from .cli import main
except ImportError as error:
    if not torch_cannot_load(error):
        raise
    print(f"error: {TORCH_CANNOT_LOAD}", file=sys.stderr)
    raise SystemExit(1) from None

raise SystemExit(main())
