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

from ..models.engine import Engine
from ..models.publisher import Publisher
from ..models.verifier import Verifier
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.deal import Deal
    from ..models.docker_spec import DockerSpec
    from ..models.exec_spec import ExecSpec
    from ..models.label_selector import LabelSelector
    from ..models.language_spec import LanguageSpec
    from ..models.network_config import NetworkConfig
    from ..models.publisher_spec import PublisherSpec
    from ..models.resources import Resources
    from ..models.storage_spec import StorageSpec
    from ..models.wasm_spec import WasmSpec


T = TypeVar("T", bound="Spec")


@_attrs_define
class Spec:
    """What to run and how.

    Attributes:
        annotations (Union[Unset, list[str]]): Free-form tags; `list` filters on them.
        deal (Union[Unset, Deal]): How many executions to run.
        do_not_track (Union[Unset, bool]): Bacalhau's "do not track" flag.
        docker (Union[Unset, DockerSpec]): Docker engine parameters.
        engine (Union[Engine, None, Unset]):
        exec_ (Union['ExecSpec', None, Unset]):
        language (Union[Unset, LanguageSpec]): Language engine parameters (Bacalhau's; hake refuses the Language
            engine).
        network (Union[Unset, NetworkConfig]): Network access of a job.
        node_selectors (Union[Unset, list['LabelSelector']]): Node label selectors (accepted, not used by a single
            node).
        publisher (Union[None, Publisher, Unset]):
        publisher_spec (Union[Unset, PublisherSpec]): Publisher type and parameters.
        resources (Union[Unset, Resources]): Requested resources, in Bacalhau's string units (`"500m"`, `"1Gb"`).
        timeout (Union[Unset, float]): Seconds before an execution is killed (0 means the server's default).
        verifier (Union[None, Unset, Verifier]):
        wasm (Union[Unset, WasmSpec]): Wasm engine parameters.
        inputs (Union[Unset, list['StorageSpec']]): Input data, mounted at their `path`.
        outputs (Union[Unset, list['StorageSpec']]): Output directories, collected at their `path`.
    """

    annotations: Union[Unset, list[str]] = UNSET
    deal: Union[Unset, "Deal"] = UNSET
    do_not_track: Union[Unset, bool] = UNSET
    docker: Union[Unset, "DockerSpec"] = UNSET
    engine: Union[Engine, None, Unset] = UNSET
    exec_: Union["ExecSpec", None, Unset] = UNSET
    language: Union[Unset, "LanguageSpec"] = UNSET
    network: Union[Unset, "NetworkConfig"] = UNSET
    node_selectors: Union[Unset, list["LabelSelector"]] = UNSET
    publisher: Union[None, Publisher, Unset] = UNSET
    publisher_spec: Union[Unset, "PublisherSpec"] = UNSET
    resources: Union[Unset, "Resources"] = UNSET
    timeout: Union[Unset, float] = UNSET
    verifier: Union[None, Unset, Verifier] = UNSET
    wasm: Union[Unset, "WasmSpec"] = UNSET
    inputs: Union[Unset, list["StorageSpec"]] = UNSET
    outputs: Union[Unset, list["StorageSpec"]] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.exec_spec import ExecSpec

        annotations: Union[Unset, list[str]] = UNSET
        if not isinstance(self.annotations, Unset):
            annotations = self.annotations

        deal: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.deal, Unset):
            deal = self.deal.to_dict()

        do_not_track = self.do_not_track

        docker: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.docker, Unset):
            docker = self.docker.to_dict()

        engine: Union[None, Unset, str]
        if isinstance(self.engine, Unset):
            engine = UNSET
        elif isinstance(self.engine, Engine):
            engine = self.engine.value
        else:
            engine = self.engine

        exec_: Union[None, Unset, dict[str, Any]]
        if isinstance(self.exec_, Unset):
            exec_ = UNSET
        elif isinstance(self.exec_, ExecSpec):
            exec_ = self.exec_.to_dict()
        else:
            exec_ = self.exec_

        language: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.language, Unset):
            language = self.language.to_dict()

        network: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.network, Unset):
            network = self.network.to_dict()

        node_selectors: Union[Unset, list[dict[str, Any]]] = UNSET
        if not isinstance(self.node_selectors, Unset):
            node_selectors = []
            for node_selectors_item_data in self.node_selectors:
                node_selectors_item = node_selectors_item_data.to_dict()
                node_selectors.append(node_selectors_item)

        publisher: Union[None, Unset, str]
        if isinstance(self.publisher, Unset):
            publisher = UNSET
        elif isinstance(self.publisher, Publisher):
            publisher = self.publisher.value
        else:
            publisher = self.publisher

        publisher_spec: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.publisher_spec, Unset):
            publisher_spec = self.publisher_spec.to_dict()

        resources: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.resources, Unset):
            resources = self.resources.to_dict()

        timeout = self.timeout

        verifier: Union[None, Unset, str]
        if isinstance(self.verifier, Unset):
            verifier = UNSET
        elif isinstance(self.verifier, Verifier):
            verifier = self.verifier.value
        else:
            verifier = self.verifier

        wasm: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.wasm, Unset):
            wasm = self.wasm.to_dict()

        inputs: Union[Unset, list[dict[str, Any]]] = UNSET
        if not isinstance(self.inputs, Unset):
            inputs = []
            for inputs_item_data in self.inputs:
                inputs_item = inputs_item_data.to_dict()
                inputs.append(inputs_item)

        outputs: Union[Unset, list[dict[str, Any]]] = UNSET
        if not isinstance(self.outputs, Unset):
            outputs = []
            for outputs_item_data in self.outputs:
                outputs_item = outputs_item_data.to_dict()
                outputs.append(outputs_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if annotations is not UNSET:
            field_dict["Annotations"] = annotations
        if deal is not UNSET:
            field_dict["Deal"] = deal
        if do_not_track is not UNSET:
            field_dict["DoNotTrack"] = do_not_track
        if docker is not UNSET:
            field_dict["Docker"] = docker
        if engine is not UNSET:
            field_dict["Engine"] = engine
        if exec_ is not UNSET:
            field_dict["Exec"] = exec_
        if language is not UNSET:
            field_dict["Language"] = language
        if network is not UNSET:
            field_dict["Network"] = network
        if node_selectors is not UNSET:
            field_dict["NodeSelectors"] = node_selectors
        if publisher is not UNSET:
            field_dict["Publisher"] = publisher
        if publisher_spec is not UNSET:
            field_dict["PublisherSpec"] = publisher_spec
        if resources is not UNSET:
            field_dict["Resources"] = resources
        if timeout is not UNSET:
            field_dict["Timeout"] = timeout
        if verifier is not UNSET:
            field_dict["Verifier"] = verifier
        if wasm is not UNSET:
            field_dict["Wasm"] = wasm
        if inputs is not UNSET:
            field_dict["inputs"] = inputs
        if outputs is not UNSET:
            field_dict["outputs"] = outputs

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.deal import Deal
        from ..models.docker_spec import DockerSpec
        from ..models.exec_spec import ExecSpec
        from ..models.label_selector import LabelSelector
        from ..models.language_spec import LanguageSpec
        from ..models.network_config import NetworkConfig
        from ..models.publisher_spec import PublisherSpec
        from ..models.resources import Resources
        from ..models.storage_spec import StorageSpec
        from ..models.wasm_spec import WasmSpec

        d = dict(src_dict)
        annotations = cast(list[str], d.pop("Annotations", UNSET))

        _deal = d.pop("Deal", UNSET)
        deal: Union[Unset, Deal]
        if isinstance(_deal, Unset):
            deal = UNSET
        else:
            deal = Deal.from_dict(_deal)

        do_not_track = d.pop("DoNotTrack", UNSET)

        _docker = d.pop("Docker", UNSET)
        docker: Union[Unset, DockerSpec]
        if isinstance(_docker, Unset):
            docker = UNSET
        else:
            docker = DockerSpec.from_dict(_docker)

        def _parse_engine(data: object) -> Union[Engine, None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                engine_type_1 = Engine(data)

                return engine_type_1
            except:  # noqa: E722
                pass
            return cast(Union[Engine, None, Unset], data)

        engine = _parse_engine(d.pop("Engine", UNSET))

        def _parse_exec_(data: object) -> Union["ExecSpec", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                exec_type_1 = ExecSpec.from_dict(data)

                return exec_type_1
            except:  # noqa: E722
                pass
            return cast(Union["ExecSpec", None, Unset], data)

        exec_ = _parse_exec_(d.pop("Exec", UNSET))

        _language = d.pop("Language", UNSET)
        language: Union[Unset, LanguageSpec]
        if isinstance(_language, Unset):
            language = UNSET
        else:
            language = LanguageSpec.from_dict(_language)

        _network = d.pop("Network", UNSET)
        network: Union[Unset, NetworkConfig]
        if isinstance(_network, Unset):
            network = UNSET
        else:
            network = NetworkConfig.from_dict(_network)

        node_selectors = []
        _node_selectors = d.pop("NodeSelectors", UNSET)
        for node_selectors_item_data in _node_selectors or []:
            node_selectors_item = LabelSelector.from_dict(node_selectors_item_data)

            node_selectors.append(node_selectors_item)

        def _parse_publisher(data: object) -> Union[None, Publisher, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                publisher_type_1 = Publisher(data)

                return publisher_type_1
            except:  # noqa: E722
                pass
            return cast(Union[None, Publisher, Unset], data)

        publisher = _parse_publisher(d.pop("Publisher", UNSET))

        _publisher_spec = d.pop("PublisherSpec", UNSET)
        publisher_spec: Union[Unset, PublisherSpec]
        if isinstance(_publisher_spec, Unset):
            publisher_spec = UNSET
        else:
            publisher_spec = PublisherSpec.from_dict(_publisher_spec)

        _resources = d.pop("Resources", UNSET)
        resources: Union[Unset, Resources]
        if isinstance(_resources, Unset):
            resources = UNSET
        else:
            resources = Resources.from_dict(_resources)

        timeout = d.pop("Timeout", UNSET)

        def _parse_verifier(data: object) -> Union[None, Unset, Verifier]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                verifier_type_1 = Verifier(data)

                return verifier_type_1
            except:  # noqa: E722
                pass
            return cast(Union[None, Unset, Verifier], data)

        verifier = _parse_verifier(d.pop("Verifier", UNSET))

        _wasm = d.pop("Wasm", UNSET)
        wasm: Union[Unset, WasmSpec]
        if isinstance(_wasm, Unset):
            wasm = UNSET
        else:
            wasm = WasmSpec.from_dict(_wasm)

        inputs = []
        _inputs = d.pop("inputs", UNSET)
        for inputs_item_data in _inputs or []:
            inputs_item = StorageSpec.from_dict(inputs_item_data)

            inputs.append(inputs_item)

        outputs = []
        _outputs = d.pop("outputs", UNSET)
        for outputs_item_data in _outputs or []:
            outputs_item = StorageSpec.from_dict(outputs_item_data)

            outputs.append(outputs_item)

        spec = cls(
            annotations=annotations,
            deal=deal,
            do_not_track=do_not_track,
            docker=docker,
            engine=engine,
            exec_=exec_,
            language=language,
            network=network,
            node_selectors=node_selectors,
            publisher=publisher,
            publisher_spec=publisher_spec,
            resources=resources,
            timeout=timeout,
            verifier=verifier,
            wasm=wasm,
            inputs=inputs,
            outputs=outputs,
        )

        spec.additional_properties = d
        return spec

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
