"""The SOAP citizen services `XacThucThongTinCongDan` and `XacMinhThongTinNhanThan` (DOMAIN.md
§5.1).

Its schema is the public `anhnbt/lgsp` repository's `XacThucThongTinCongDan.xsd` (namespace
`http://dancuquocgia.bca`): a request `{MaYeuCau, MaDichVu, MaCanBo, SoDinhDanh, SoCMND,
HoVaTen}` answered `KetQuaXacThucResponse{TonTai}`. The WSDL around it (SOAP 1.1,
document/literal, the SOAPAction) is assigned: the source has only the schema. Requests are
parsed with edXML's hardened parser (`formats._xml_guard`): no DTD, no entities, bounded size.

`XacMinhThongTinNhanThan` is the same repository's `XacMinhThongTinNhanThanRequest.xsd`
(namespace `http://gtel.vn/qldc`, `{MaYeuCau, MaDVC, MaTichHop, MaDonVi, MaCanBo, SoDinhDanh,
SoCMND, HoVaTen, NgayThangNamSinh}`) answered by `CongdanCollection.xsd` (namespace
`http://www.mic.gov.vn/dancu/1.0`): the matching citizens, `SoCongDan` of them.

A provincial portal (Thanh Hóa, DOMAIN.md §5.2) reads the same envelope wrapped in JSON,
`{error_code, message: "<SOAP XML>"}` (`json_wrapped`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from formats._xml_guard import EdxmlLimits, InvalidEdxml, Node, parse_xml
from formats.dates import VIETNAM_TIME
from formats.ngsp import request_object

NAMESPACE = "http://dancuquocgia.bca"
SOAP_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
OPERATION = "XacThucThongTinCongDan"
MEDIA_TYPE = "text/xml; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
JSON_SUCCESS = "0"
LIMITS = EdxmlLimits(max_bytes=16 * 1024, max_depth=8, max_elements=64, max_attributes=16)
"""A request is six short strings in an envelope: nothing bigger is parsed."""
_FIELDS = ("MaYeuCau", "MaDichVu", "MaCanBo", "SoDinhDanh", "SoCMND", "HoVaTen")
_SO_DINH_DANH = re.compile(r"\d{12}")

NHAN_THAN_OPERATION = "XacMinhThongTinNhanThan"
NHAN_THAN_NAMESPACE = "http://gtel.vn/qldc"
DANCU_NAMESPACE = "http://www.mic.gov.vn/dancu/1.0"
_NHAN_THAN_FIELDS = (
    "MaYeuCau",
    "MaDVC",
    "MaTichHop",
    "MaDonVi",
    "MaCanBo",
    "SoDinhDanh",
    "SoCMND",
    "HoVaTen",
    "NgayThangNamSinh",
)
_BIRTH_DATE = re.compile(r"\d{8}")
"""`NgayThangNamSinh` as `yyyyMMdd` (assigned: the schema types it as a string)."""


class SoapRequestError(ValueError):
    """The request is no `XacThucThongTinCongDan` envelope; the message says why (no values)."""


@dataclass(frozen=True)
class XacThucRequest:
    ma_yeu_cau: str
    ma_dich_vu: str
    ma_can_bo: str
    so_dinh_danh: str
    so_cmnd: str
    ho_va_ten: str


def parse_request(body: bytes) -> XacThucRequest:
    values = _parse(body, NAMESPACE, OPERATION, _FIELDS)
    return XacThucRequest(*(values[name] for name in _FIELDS))


@dataclass(frozen=True)
class XacMinhRequest:
    so_dinh_danh: str
    ho_va_ten: str
    birth_date: date | None


def parse_nhan_than(body: bytes) -> XacMinhRequest:
    """`XacMinhThongTinNhanThanRequest`; every field present, `NgayThangNamSinh` may be empty."""
    values = _parse(body, NHAN_THAN_NAMESPACE, NHAN_THAN_OPERATION, _NHAN_THAN_FIELDS)
    return XacMinhRequest(
        values["SoDinhDanh"], values["HoVaTen"], _birth(values["NgayThangNamSinh"])
    )


def _birth(birth: str) -> date | None:
    if birth and not _BIRTH_DATE.fullmatch(birth):
        raise SoapRequestError("The birth date must be yyyyMMdd.")
    try:
        return date(int(birth[:4]), int(birth[4:6]), int(birth[6:])) if birth else None
    except ValueError:
        raise SoapRequestError("The birth date is not a date.") from None


PORTAL_FIELDS = ("HoVaTen", "SoDinhDanh", "SoCMND", "NgayThangNam", "Nam", "MaTichHop", "MaDVC")
"""The Thanh Hóa portal's JSON request (DOMAIN.md §5.2; `MaCanBo`, `MaYeuCau` too, unread)."""
_PORTAL_FIELD_CHARS = 256


def parse_portal_request(body: bytes) -> XacMinhRequest:
    """The portal's `{HoVaTen, SoDinhDanh, SoCMND, NgayThangNam, Nam, …}` as the
    `XacMinhThongTinNhanThan` it asks (sourced); `NgayThangNam` as `yyyyMMdd` like the SOAP
    field, and `Nam` not read (both assigned: the source shows only the names)."""
    document = request_object(body)
    if document is None:
        raise SoapRequestError("The body is not a JSON object.")
    values = {}
    for name in ("HoVaTen", "SoDinhDanh", "NgayThangNam"):
        value = document.get(name, "")
        if not isinstance(value, str) or len(value) > _PORTAL_FIELD_CHARS:
            raise SoapRequestError(f"{name} must be a string of at most {_PORTAL_FIELD_CHARS}.")
        values[name] = value.strip()
    if not _SO_DINH_DANH.fullmatch(values["SoDinhDanh"]):
        raise SoapRequestError("SoDinhDanh must be the 12 digits of a personal id number.")
    return XacMinhRequest(values["SoDinhDanh"], values["HoVaTen"], _birth(values["NgayThangNam"]))


def _parse(body: bytes, namespace: str, operation: str, fields: tuple[str, ...]) -> dict[str, str]:
    try:
        root = parse_xml(body, LIMITS)
    except InvalidEdxml as error:
        raise SoapRequestError(f"The SOAP envelope cannot be read ({error.rule}).") from None
    if root.tag != f"{{{SOAP_NAMESPACE}}}Envelope":
        raise SoapRequestError("The root element is not a SOAP 1.1 Envelope.")
    soap_body = _child(root, f"{{{SOAP_NAMESPACE}}}Body")
    request = None if soap_body is None else _child(soap_body, f"{{{namespace}}}{operation}Request")
    if request is None:
        raise SoapRequestError(f"The Body holds no {{{namespace}}}{operation}Request.")
    values = {}
    for name in fields:
        field = _child(request, f"{{{namespace}}}{name}")
        if field is None:
            raise SoapRequestError(f"{name} is required.")
        values[name] = field.text.strip()
    if not _SO_DINH_DANH.fullmatch(values["SoDinhDanh"]):
        raise SoapRequestError("SoDinhDanh must be the 12 digits of a personal id number.")
    return values


def _child(node: Node, tag: str) -> Node | None:
    return next((child for child in node.children if child.tag == tag), None)


def same_name(claimed: str, recorded: str) -> bool:
    """Names compare as written, up to Unicode normal form, case and spacing."""

    def normal(name: str) -> str:
        return " ".join(unicodedata.normalize("NFC", name).casefold().split())

    return normal(claimed) == normal(recorded)


def _envelope(content: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NAMESPACE}"><soap:Body>{content}</soap:Body>'
        "</soap:Envelope>"
    ).encode()


def response(ton_tai: bool) -> bytes:
    value = "true" if ton_tai else "false"
    return _envelope(
        f'<dan:KetQuaXacThucResponse xmlns:dan="{NAMESPACE}">'
        f"<dan:TonTai>{value}</dan:TonTai></dan:KetQuaXacThucResponse>"
    )


def nhan_than_response(found: list[tuple[str, str, date]], *, at: datetime) -> bytes:
    """`CongdanCollection` with a `CongDan` per citizen found: (number, full name, birth date).
    `ThoiDiemDuLieu` is `at` in Vietnam time (+07:00), as every time the bus answers."""
    people = "".join(
        f"<dc:CongDan><dc:SoDinhDanh>{escape(number)}</dc:SoDinhDanh><dc:SoCMND/>"
        f"<dc:HoVaTen>{_name_parts(name)}</dc:HoVaTen>"
        f"<dc:NgayThangNamSinh><dc:NgayThangNam>{born:%Y%m%d}</dc:NgayThangNam>"
        "</dc:NgayThangNamSinh></dc:CongDan>"
        for number, name, born in found
    )
    return _envelope(
        f'<dc:CongdanCollection xmlns:dc="{DANCU_NAMESPACE}" SoCongDan="{len(found)}" '
        f'GhiChu="" ThoiDiemDuLieu="{at.astimezone(VIETNAM_TIME).isoformat(timespec="seconds")}">'
        f"{people}"
        "</dc:CongdanCollection>"
    )


def _name_parts(full_name: str) -> str:
    """`HoVaTen{Ho, ChuDem, Ten}`: the first word, the middle ones, the last (Vietnamese order)."""
    words = full_name.split()
    ho, ten = (words[0], words[-1]) if len(words) > 1 else ("", full_name)
    chu_dem = " ".join(words[1:-1])
    return (
        f"<dc:Ho>{escape(ho)}</dc:Ho><dc:ChuDem>{escape(chu_dem)}</dc:ChuDem>"
        f"<dc:Ten>{escape(ten)}</dc:Ten>"
    )


def fault(*, client: bool, message: str, code: str) -> bytes:
    """A SOAP 1.1 fault: `soap:Client` for the caller's error, else `soap:Server`; the bus's
    stable code in `detail`."""
    kind = "soap:Client" if client else "soap:Server"
    return _envelope(
        f"<soap:Fault><faultcode>{kind}</faultcode><faultstring>{escape(message)}</faultstring>"
        f'<detail><dan:MaLoi xmlns:dan="{NAMESPACE}">{escape(code)}</dan:MaLoi></detail>'
        "</soap:Fault>"
    )


def json_wrapped(envelope: bytes, *, error_code: str = JSON_SUCCESS) -> bytes:
    """The Thanh Hóa portal's form (DOMAIN.md §5.2): the SOAP envelope, unchanged, as the string
    `message` beside `error_code` ("0" for an answer, another code for a fault)."""
    document = {"error_code": error_code, "message": envelope.decode("utf-8")}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def wsdl(location: str) -> bytes:
    """The service's WSDL 1.1, its schema inline, addressed at `location`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:dan="{NAMESPACE}" targetNamespace="{NAMESPACE}" name="{OPERATION}">
  <wsdl:types>
    <xs:schema targetNamespace="{NAMESPACE}" elementFormDefault="qualified">
      <xs:element name="{OPERATION}Request">
        <xs:complexType>
          <xs:sequence>
{"".join(f'            <xs:element name="{n}" type="xs:string"/>{chr(10)}' for n in _FIELDS)}\
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="KetQuaXacThucResponse">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="TonTai" type="xs:boolean"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:schema>
  </wsdl:types>
{_wsdl_operation(OPERATION, "dan", "dan:KetQuaXacThucResponse", location)}""".encode()


def nhan_than_wsdl(location: str) -> bytes:
    """`XacMinhThongTinNhanThan`'s WSDL 1.1: the request's schema and `CongdanCollection`'s,
    inline; binding and SOAPAction assigned as for `XacThucThongTinCongDan`."""
    op = NHAN_THAN_OPERATION
    fields = "".join(
        f'            <xs:element name="{n}" type="xs:string"/>{chr(10)}' for n in _NHAN_THAN_FIELDS
    )
    name = (
        '<xs:complexType><xs:sequence><xs:element name="Ho" type="xs:string"/>'
        '<xs:element name="ChuDem" type="xs:string"/><xs:element name="Ten" type="xs:string"/>'
        "</xs:sequence></xs:complexType>"
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:q="{NHAN_THAN_NAMESPACE}" xmlns:dc="{DANCU_NAMESPACE}"
    targetNamespace="{NHAN_THAN_NAMESPACE}" name="{op}">
  <wsdl:types>
    <xs:schema targetNamespace="{DANCU_NAMESPACE}" elementFormDefault="qualified">
      <xs:element name="CongdanCollection">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="CongDan" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType>
                <xs:sequence>
                  <xs:element name="SoDinhDanh" type="xs:string"/>
                  <xs:element name="SoCMND" type="xs:string"/>
                  <xs:element name="HoVaTen">{name}</xs:element>
                  <xs:element name="NgayThangNamSinh">
                    <xs:complexType><xs:sequence>
                      <xs:element name="NgayThangNam" type="xs:string"/>
                    </xs:sequence></xs:complexType>
                  </xs:element>
                </xs:sequence>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
          <xs:attribute name="SoCongDan" type="xs:int"/>
          <xs:attribute name="GhiChu" type="xs:string"/>
          <xs:attribute name="ThoiDiemDuLieu" type="xs:dateTime"/>
          <xs:attribute name="id" type="xs:string"/>
        </xs:complexType>
      </xs:element>
    </xs:schema>
    <xs:schema targetNamespace="{NHAN_THAN_NAMESPACE}" elementFormDefault="qualified">
      <xs:element name="{op}Request">
        <xs:complexType>
          <xs:sequence>
{fields}\
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:schema>
  </wsdl:types>
{_wsdl_operation(op, "q", "dc:CongdanCollection", location)}""".encode()


def _wsdl_operation(op: str, prefix: str, output: str, location: str) -> str:
    """The messages, port type, document/literal binding and service of one operation `op`
    whose request element is `{prefix}:{op}Request` and answer element `output`; the end of
    the WSDL."""
    return f"""\
  <wsdl:message name="{op}Input">
    <wsdl:part name="parameters" element="{prefix}:{op}Request"/>
  </wsdl:message>
  <wsdl:message name="{op}Output">
    <wsdl:part name="parameters" element="{output}"/>
  </wsdl:message>
  <wsdl:portType name="{op}PortType">
    <wsdl:operation name="{op}">
      <wsdl:input message="{prefix}:{op}Input"/>
      <wsdl:output message="{prefix}:{op}Output"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="{op}Binding" type="{prefix}:{op}PortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="{op}">
      <soap:operation soapAction="{op}" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="{op}Service">
    <wsdl:port name="{op}Port" binding="{prefix}:{op}Binding">
      <soap:address location={quoteattr(location)}/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
