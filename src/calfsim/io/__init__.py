"""Files in and out: protocol JSON (the predict contract) and prediction JSON."""

from calfsim.io._prediction_json import prediction_to_dict
from calfsim.io._protocol_file import (
    DEFAULT_DAYS,
    ProtocolIn,
    parse_protocol,
    read_protocol,
)

__all__ = ["DEFAULT_DAYS", "ProtocolIn", "parse_protocol", "prediction_to_dict", "read_protocol"]
