"""The embedded local stack: real servers this project starts and stops itself."""

from pipeline.stack.servers import StackError
from pipeline.stack.stack import Stack, choose_broker

__all__ = ["Stack", "StackError", "choose_broker"]
