from enum import Enum


class Engine(str, Enum):
    DOCKER = "Docker"
    EXEC = "Exec"
    LANGUAGE = "Language"
    NOOP = "Noop"
    PYTHONWASM = "PythonWasm"
    WASM = "Wasm"

    def __str__(self) -> str:
        return str(self.value)
