"""Files in and out: protocol and intake JSON (the contracts) and prediction/plan JSON."""

from calfsim.io._intake_file import IntakeIn, parse_intake, read_intake
from calfsim.io._plan_json import jsonable, plan_to_dict, session_to_dict
from calfsim.io._prediction_json import prediction_to_dict
from calfsim.io._protocol_file import (
    DEFAULT_DAYS,
    ProtocolIn,
    parse_protocol,
    read_json_file,
    read_protocol,
)

__all__ = [
    "DEFAULT_DAYS",
    "IntakeIn",
    "ProtocolIn",
    "jsonable",
    "parse_intake",
    "parse_protocol",
    "plan_to_dict",
    "prediction_to_dict",
    "read_intake",
    "read_json_file",
    "read_protocol",
    "session_to_dict",
]
