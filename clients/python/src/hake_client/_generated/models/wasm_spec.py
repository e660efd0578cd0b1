from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.storage_spec import StorageSpec
    from ..models.wasm_spec_environment_variables import WasmSpecEnvironmentVariables


T = TypeVar("T", bound="WasmSpec")


@_attrs_define
class WasmSpec:
    """Wasm engine parameters.

    Attributes:
        entry_module (Union[Unset, StorageSpec]): Where data lives, and where it is mounted.
        entry_point (Union[Unset, str]): The exported function to call; `_start` when empty.
        environment_variables (Union[Unset, WasmSpecEnvironmentVariables]): Environment variables.
        import_modules (Union[Unset, list['StorageSpec']]): Extra modules to link (not supported; must be empty).
        parameters (Union[Unset, list[str]]): argv after the program name.
    """

    entry_module: Union[Unset, "StorageSpec"] = UNSET
    entry_point: Union[Unset, str] = UNSET
    environment_variables: Union[Unset, "WasmSpecEnvironmentVariables"] = UNSET
    import_modules: Union[Unset, list["StorageSpec"]] = UNSET
    parameters: Union[Unset, list[str]] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entry_module: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.entry_module, Unset):
            entry_module = self.entry_module.to_dict()

        entry_point = self.entry_point

        environment_variables: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.environment_variables, Unset):
            environment_variables = self.environment_variables.to_dict()

        import_modules: Union[Unset, list[dict[str, Any]]] = UNSET
        if not isinstance(self.import_modules, Unset):
            import_modules = []
            for import_modules_item_data in self.import_modules:
                import_modules_item = import_modules_item_data.to_dict()
                import_modules.append(import_modules_item)

        parameters: Union[Unset, list[str]] = UNSET
        if not isinstance(self.parameters, Unset):
            parameters = self.parameters

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if entry_module is not UNSET:
            field_dict["EntryModule"] = entry_module
        if entry_point is not UNSET:
            field_dict["EntryPoint"] = entry_point
        if environment_variables is not UNSET:
            field_dict["EnvironmentVariables"] = environment_variables
        if import_modules is not UNSET:
            field_dict["ImportModules"] = import_modules
        if parameters is not UNSET:
            field_dict["Parameters"] = parameters

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.storage_spec import StorageSpec
        from ..models.wasm_spec_environment_variables import (
            WasmSpecEnvironmentVariables,
        )

        d = dict(src_dict)
        _entry_module = d.pop("EntryModule", UNSET)
        entry_module: Union[Unset, StorageSpec]
        if isinstance(_entry_module, Unset):
            entry_module = UNSET
        else:
            entry_module = StorageSpec.from_dict(_entry_module)

        entry_point = d.pop("EntryPoint", UNSET)

        _environment_variables = d.pop("EnvironmentVariables", UNSET)
        environment_variables: Union[Unset, WasmSpecEnvironmentVariables]
        if isinstance(_environment_variables, Unset):
            environment_variables = UNSET
        else:
            environment_variables = WasmSpecEnvironmentVariables.from_dict(
                _environment_variables
            )

        import_modules = []
        _import_modules = d.pop("ImportModules", UNSET)
        for import_modules_item_data in _import_modules or []:
            import_modules_item = StorageSpec.from_dict(import_modules_item_data)

            import_modules.append(import_modules_item)

        parameters = cast(list[str], d.pop("Parameters", UNSET))

        wasm_spec = cls(
            entry_module=entry_module,
            entry_point=entry_point,
            environment_variables=environment_variables,
            import_modules=import_modules,
            parameters=parameters,
        )

        wasm_spec.additional_properties = d
        return wasm_spec

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
