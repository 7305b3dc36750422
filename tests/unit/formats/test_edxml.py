"""edXML (QCVN 102:2016) ↔ canonical JSON: lossless both ways, and hostile XML refused fast."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import formats._xml_guard as xml_guard
from adapters.base import TranslationError
from formats.edxml import (
    DEFAULT_LIMITS,
    NAMESPACE,
    STATUS_CODES,
    EdxmlLimits,
    InvalidEdxml,
    parse_edxml,
    parse_status,
    read_edxml,
    read_status,
    render_edxml,
    render_status,
    validate_document,
    validate_status,
)

SAMPLE = (Path(__file__).parent / "samples" / "edoc_new.edxml").read_bytes()
NS = NAMESPACE.encode()
# CPU seconds of this process, which other processes on a loaded machine do not move: far
# below what an expanding or hanging parser would take (a complexity bound, not a speed target).
FAST = 2.0
SECRET = "MẬT-7f3a9"  # planted in bad values: no error detail may repeat it


def refused(action: Callable[[], object], rule: str) -> InvalidEdxml:
    started = time.process_time()
    with pytest.raises(InvalidEdxml) as caught:
        action()
    assert time.process_time() - started < FAST
    assert caught.value.rule == rule, caught.value.detail
    extensions = dict(caught.value.extensions)
    missing = extensions.pop("errors", [])  # a JSON body lacking fields names them all
    assert extensions == {"rule": rule}
    assert all(error["type"] == "missing" for error in missing)
    assert SECRET not in caught.value.detail
    return caught.value


def organisation(
    organ_id: str = "000.00.00.H30", name: str = "UBND tỉnh Hậu Giang"
) -> dict[str, Any]:
    return {"organ_id": organ_id, "organ_name": name}


def make_document(**changes: Any) -> dict[str, Any]:
    """The smallest valid canonical document; `changes` replace top-level keys."""
    document: dict[str, Any] = {
        "from": organisation(),
        "to": [organisation("000.00.12.H30", "Sở Thông tin và Truyền thông")],
        "code": {"code_number": "1234", "code_notation": "UBND-KT"},
        "promulgation": {"place": "Hậu Giang", "date": "2024-03-15"},
        "document_type": {"type": 1, "type_name": "Công văn"},
        "subject": "V/v kết nối LGSP",
        "signer": {"position": "PHÓ CHỦ TỊCH", "full_name": "Trần Văn Bình"},
        "other_info": {"priority": 0},
    }
    document.update(changes)
    return document


def make_status(**changes: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "response_for": {
            "organ_id": "000.00.00.H30",
            "code": "1234/UBND-KT",
            "promulgation_date": "2024-03-15",
            "document_id": "000.00.00.H30,2024/03/15,1234/UBND-KT",
        },
        "from": organisation("000.00.12.H30", "Sở Thông tin và Truyền thông"),
        "status_code": "03",
        "description": "Đã tiếp nhận",
        "timestamp": "2024-03-16T08:05:00",
        "staff_info": {"department": "Văn thư", "staff": "Lê Thị Cẩm Tú"},
    }
    status.update(changes)
    return status


# --- the sample and the envelope ------------------------------------------------------------


def test_sample_parses_to_the_expected_canonical_document() -> None:
    document = parse_edxml(SAMPLE)

    assert document["from"]["organ_id"] == "000.00.00.H30"
    assert document["from"]["organ_name"] == "UBND tỉnh Hậu Giang"
    assert [to["organ_id"] for to in document["to"]] == ["000.00.12.H30"]
    assert document["to"][0]["fax"] == ""  # present but empty stays distinct from absent
    assert document["document_id"] == "000.00.00.H30,2024/03/15,1234/UBND-KT"
    assert document["code"] == {"code_number": "1234", "code_notation": "UBND-KT"}
    assert document["promulgation"] == {"place": "Hậu Giang", "date": "2024-03-15"}
    assert document["document_type"] == {"type": 1, "type_detail": 0, "type_name": "Công văn"}
    assert document["subject"].startswith("V/v triển khai kết nối Nền tảng tích hợp")
    assert "Thông tin & Truyền thông" in document["content"]
    assert document["signer"] == {
        "competence": "KT. CHỦ TỊCH",
        "position": "PHÓ CHỦ TỊCH",
        "full_name": "Trần Văn Bình",
    }
    assert document["due_date"] == "2024-03-29"
    assert document["to_places"] == ["Như trên", "Lưu: VT, KT"]
    assert document["other_info"] == {
        "priority": 1,
        "sphere_of_promulgation": "Liên thông văn bản cấp tỉnh",
        "typer_notation": "NTH",
        "promulgation_amount": 3,
        "page_amount": 2,
        "direction": False,
        "appendixes": ["Phụ lục: Danh sách hệ thống cần kết nối"],
    }
    assert document["steering_type"] == 1
    assert document["trace_headers"] == [
        {"organ_id": "000.00.00.H30", "timestamp": "2024-03-15T14:30:05"}
    ]
    assert document["business"] == {
        "business_doc_type": 0,
        "business_doc_reason": "Văn bản điện tử mới",
        "document_id": "000.00.00.H30,2024/03/15,1234/UBND-KT",
        "paper": 0,
        "staff_info": {
            "department": "Văn thư Văn phòng UBND tỉnh",
            "staff": "Lê Thị Cẩm Tú",
            "mobile": "0912000001",
            "email": "vanthu@haugiang.gov.vn",
        },
        "replacement_info": [],
    }
    [attachment] = document["attachments"]
    content = base64.b64decode(attachment["content_base64"])
    assert attachment["content_id"] == "1234-UBND-KT"  # `cid:` dropped, either form accepted
    assert (attachment["attachment_name"], attachment["content_type"]) == (
        "1234-UBND-KT.pdf",
        "application/pdf",
    )
    assert content.startswith(b"%PDF-1.4")
    assert attachment["size_bytes"] == len(content) == 136


def test_sample_is_json_serialisable_as_parsed() -> None:
    document = parse_edxml(SAMPLE)

    assert json.loads(json.dumps(document, ensure_ascii=False)) == document


def test_rendering_the_sample_is_a_normalisation_that_then_stays_fixed() -> None:
    normalised = render_edxml(parse_edxml(SAMPLE))

    assert render_edxml(parse_edxml(normalised)) == normalised
    assert parse_edxml(normalised) == parse_edxml(SAMPLE)
    assert b"Signature" not in normalised  # read past, never written (no XML-DSig yet)


def test_rendered_edxml_has_the_qcvn_102_envelope() -> None:
    rendered = render_edxml(parse_edxml(SAMPLE))
    root = xml_guard.parse_xml(rendered)

    assert rendered.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="')
    assert b"<edXML:edXMLEnvelope>" in rendered
    assert b"<edXML:Bussiness>" in rendered
    assert root.tag == f"{{{NAMESPACE}}}edXML"
    assert [child.local for child in root.children] == ["edXMLEnvelope", "AttachmentEncoded"]
    envelope = root.children[0]
    assert [child.local for child in envelope.children] == ["edXMLHeader", "edXMLBody"]
    header = envelope.children[0]
    assert [child.local for child in header.children] == ["MessageHeader", "TraceHeaderList"]
    assert {child.tag.partition("}")[0] for child in header.children[0].children} == {
        f"{{{NAMESPACE}"
    }
    assert b"<edXML:ContentId>cid:1234-UBND-KT</edXML:ContentId>" in rendered
    assert b"<edXML:PromulgationDate>2024/03/15</edXML:PromulgationDate>" in rendered
    assert b"<edXML:Timestamp>2024/03/15 14:30:05</edXML:Timestamp>" in rendered


def test_status_codes_are_the_nine_edxml_codes() -> None:
    """edXML's six steps of a document's handling (01-06) and its three answers about a recall
    (13, 15, 16), under DOMAIN.md §8.3's names; a status message takes these and no other code."""
    steps = ["ARRIVED", "REJECTED", "ACCEPTED", "ASSIGNED", "PROCESSING", "DONE"]
    recall = ["RECALL_REQUESTED", "RECALL_ACCEPTED", "RECALL_REFUSED"]
    codes = [f"{n:02}" for n in (*range(1, 7), 13, 15, 16)]

    def taken(code: str) -> bool:
        with contextlib.suppress(InvalidEdxml):
            return bool(validate_status(make_status(status_code=code)))
        return False

    assert dict(STATUS_CODES) == dict(zip(codes, steps + recall, strict=True))
    assert [code for code in (f"{n:02}" for n in range(100)) if taken(code)] == codes


def test_invalid_edxml_is_a_422_translation_error_with_a_stable_code() -> None:
    error = InvalidEdxml("detail", rule="missing_field")

    assert isinstance(error, TranslationError)
    assert (error.code, error.status, error.extensions) == (
        "INVALID_EDXML",
        422,
        {"rule": "missing_field"},
    )


# --- normalisation rules --------------------------------------------------------------------


def test_whitespace_and_xml_special_characters_survive_both_ways() -> None:
    subject = "  <Khẩn> & \"hỏa tốc\" 'ngay'\r\n\tcuối dòng  "
    document = make_document(subject=subject, content="\r", to_places=[" a ", "]]>"])

    rendered = render_edxml(document)
    parsed = parse_edxml(rendered)

    assert (parsed["subject"], parsed["content"], parsed["to_places"]) == (
        subject,
        "\r",
        [" a ", "]]>"],
    )
    assert b"&#13;" in rendered  # a raw CR would come back as LF (XML 1.0 §2.11)


def test_absent_and_empty_optional_text_stay_distinct() -> None:
    parsed = parse_edxml(render_edxml(make_document(content="")))

    assert parsed["content"] == ""
    assert parse_edxml(render_edxml(make_document()))["content"] is None


def test_document_id_is_derived_when_absent_on_either_side() -> None:
    expected = "000.00.00.H30,2024/03/15,1234/UBND-KT"
    rendered = render_edxml(make_document())

    assert validate_document(make_document())["document_id"] == expected
    without = rendered.replace(f"<edXML:DocumentId>{expected}</edXML:DocumentId>".encode(), b"")
    assert without != rendered
    assert parse_edxml(without)["document_id"] == expected


def test_a_given_document_id_that_does_not_match_the_header_is_kept_and_noted() -> None:
    given_id = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    document = make_document(
        document_id=given_id, code={"code_number": "74fass22", "code_notation": "VPCP-TTĐT"}
    )

    reading = read_edxml(render_edxml(document))

    assert reading.message["document_id"] == given_id
    assert [n.rule for n in reading.nonconformities] == ["document_id_mismatch"]
    with pytest.raises(InvalidEdxml) as refused:
        parse_edxml(render_edxml(document))
    assert refused.value.rule == "document_id_mismatch"


def test_structured_values_may_be_padded_on_input_and_are_written_bare() -> None:
    padded = SAMPLE.replace(b">2024/03/15<", b">\n  2024/03/15 \n<").replace(
        b"<edXML:Priority>1<", b"<edXML:Priority> 01 <"
    )

    assert padded != SAMPLE
    assert parse_edxml(padded) == parse_edxml(SAMPLE)


def test_xml_boolean_one_and_zero_are_read_as_true_and_false() -> None:
    one = SAMPLE.replace(b"<edXML:Direction>false<", b"<edXML:Direction>1<")

    assert parse_edxml(one)["other_info"]["direction"] is True


def test_cid_prefix_is_accepted_in_json_and_written_in_the_manifest() -> None:
    attachment = {
        "content_id": "cid:phu-luc",
        "attachment_name": "phu-luc.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(b"%PDF").decode(),
    }
    document = make_document(attachments=[attachment])

    assert validate_document(document)["attachments"][0]["content_id"] == "phu-luc"
    assert b"<edXML:ContentId>cid:phu-luc</edXML:ContentId>" in render_edxml(document)


def test_line_wrapped_base64_is_accepted_and_normalised() -> None:
    content = bytes(range(256)) * 3
    encoded = base64.encodebytes(content).decode()  # MIME: a newline every 76 characters
    attachment = {
        "content_id": "a",
        "attachment_name": "a.bin",
        "content_type": "application/octet-stream",
        "content_base64": encoded,
        "size_bytes": len(content),
    }

    [normalised] = validate_document(make_document(attachments=[attachment]))["attachments"]

    assert "\n" in encoded
    assert normalised["content_base64"] == base64.b64encode(content).decode()


def test_unknown_elements_and_xinclude_are_read_past_not_followed() -> None:
    extra = (
        b'<edXML:ApplicationType>MCDT_DT</edXML:ApplicationType><xi:include href="file:///etc/'
        b'passwd" xmlns:xi="http://www.w3.org/2001/XInclude"/></edXML:MessageHeader>'
    )
    patched = SAMPLE.replace(b"</edXML:MessageHeader>", extra)

    assert patched != SAMPLE
    assert parse_edxml(patched) == parse_edxml(SAMPLE)


def test_predefined_entities_character_references_and_cdata_are_text() -> None:
    patched = SAMPLE.replace(
        b"<edXML:Subject>V/v",
        b"<edXML:Subject>&lt;&amp;&gt;&quot;&apos;&#272;&#x111;<![CDATA[<b>&amp;</b>]]>V/v",
    )

    assert parse_edxml(patched)["subject"].startswith("<&>\"'Đđ<b>&amp;</b>V/v")


# --- hostile input --------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>\n"
)
XXE_FILE = (
    b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<edXML xmlns="' + NS + b'">&xxe;</edXML>'
)
XXE_PARAMETER = (
    b'<!DOCTYPE edXML [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]>'
    b'<edXML xmlns="' + NS + b'"/>'
)
EXTERNAL_DTD = b'<!DOCTYPE edXML SYSTEM "http://127.0.0.1:9/edxml.dtd"><edXML xmlns="' + NS + b'"/>'
DEEP = b"<a>" * 100_000 + b"</a>" * 100_000
WIDE = b'<edXML xmlns="' + NS + b'">' + b"<x/>" * 10_001 + b"</edXML>"
# SECURITY-PROBE-2026-12 F7 sent one start tag of 1.5 million attributes (18.4 MB): 8 s of
# parsing on the event loop. A tenth of it still takes expat about 0.3 s.
MANY_ATTRIBUTES = b"<edXML " + b" ".join(b'a%d="1"' % i for i in range(150_000)) + b"/>"
SOME_ATTRIBUTES = b"<edXML " + b" ".join(b'a%d="1"' % i for i in range(65)) + b"/>"
LONG_COMMENT = b"<a><!--" + b"x" * (200 * 1024) + b"--></a>"
HUGE_ATTACHMENT = SAMPLE.replace(
    b"JVBERi0xLjQKMSAwIG9iaiA8PC9UeXBlIC9DYXRhbG9nIC9QYWdlcyAyIDAgUj4+IGVuZG9iagoy",
    b"A" * (14 * 1024 * 1024),  # 10.5 MiB once decoded: refused from its length alone
)


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        pytest.param(BILLION_LAUGHS, "dtd_forbidden", id="billion-laughs"),
        pytest.param(XXE_FILE, "dtd_forbidden", id="xxe-file-etc-passwd"),
        pytest.param(XXE_PARAMETER, "dtd_forbidden", id="xxe-parameter-entity"),
        pytest.param(EXTERNAL_DTD, "dtd_forbidden", id="external-dtd"),
        pytest.param(b"<!-- <!ENTITY --><a/>", "dtd_forbidden", id="declaration-in-comment"),
        pytest.param(b"<a>&xxe;</a>", "entity_forbidden", id="undeclared-entity"),
        pytest.param(b"<?xml-stylesheet href='x.xsl'?><a/>", "pi_forbidden", id="pi-prolog"),
        pytest.param(b"<a><?php system('id'); ?></a>", "pi_forbidden", id="pi-content"),
        pytest.param(DEEP, "too_deep", id="deep-nesting"),
        pytest.param(WIDE, "too_many_elements", id="too-many-elements"),
        pytest.param(MANY_ATTRIBUTES, "markup_too_long", id="one-tag-of-150k-attributes"),
        pytest.param(SOME_ATTRIBUTES, "too_many_attributes", id="65-attributes"),
        pytest.param(LONG_COMMENT, "markup_too_long", id="200-kib-comment"),
        pytest.param(b"\xff\xfe\x00garbage\x80\x81", "not_utf8", id="binary-garbage"),
        pytest.param("<a>Hà Nam</a>".encode("cp1258"), "not_utf8", id="vietnamese-in-cp1258"),
        pytest.param(
            '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"), "not_utf8", id="utf16"
        ),
        pytest.param(
            b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>', "not_utf8", id="declared-latin1"
        ),
        pytest.param(
            b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE a+AD4-<a/>',
            "not_utf8",
            id="utf7-hidden-doctype",
        ),
        pytest.param(SAMPLE[: len(SAMPLE) // 2], "not_well_formed", id="truncated"),
        pytest.param(b"", "not_well_formed", id="empty"),
        pytest.param(b'{"subject": "x"}', "not_well_formed", id="json-not-xml"),
        pytest.param(b"<!doctype a><a/>", "not_well_formed", id="lowercase-doctype"),
        pytest.param(b"<a>&#0;</a>", "not_well_formed", id="nul-character-reference"),
        pytest.param(b"<x:a/>", "not_well_formed", id="unbound-prefix"),
        pytest.param(b"<a/><b/>", "not_well_formed", id="two-roots"),
        pytest.param(b"<edXML/>", "not_edxml", id="no-namespace"),
        pytest.param(b'<edXML xmlns="urn:other"/>', "not_edxml", id="other-namespace"),
        pytest.param(b'<Envelope xmlns="' + NS + b'"/>', "not_edxml", id="other-root"),
    ],
)
def test_hostile_or_broken_input_is_refused_quickly_with_its_rule(data: bytes, rule: str) -> None:
    refused(lambda: parse_edxml(data), rule)
    refused(lambda: parse_status(data), rule)


def test_one_huge_start_tag_is_refused_before_expat_reads_it_whole() -> None:
    started = time.process_time()

    refused(lambda: parse_edxml(MANY_ATTRIBUTES), "markup_too_long")

    assert time.process_time() - started < 0.5  # expat rescans an unfinished tag at each chunk


@pytest.mark.parametrize(
    "body",
    [
        b"<a>" + b"QUJD" * (2 * 1024 * 1024) + b"</a>",
        b"<a><![CDATA[" + b"QUJD" * (2 * 1024 * 1024) + b"]]></a>",
        b"<a>" + b"QUJD\n" * (1024 * 1024) + b"</a>",
    ],
    ids=["text", "cdata", "wrapped-lines"],
)
def test_long_text_is_not_taken_for_long_markup(body: bytes) -> None:
    assert len(xml_guard.parse_xml(body).text) > 4 * 1024 * 1024


def test_input_over_max_bytes_is_refused_before_parsing() -> None:
    limits = EdxmlLimits(max_bytes=len(SAMPLE) - 1)

    refused(lambda: parse_edxml(SAMPLE, limits=limits), "too_large")
    assert parse_edxml(SAMPLE, limits=EdxmlLimits(max_bytes=len(SAMPLE)))


def test_default_size_limit_is_20_mib() -> None:
    assert DEFAULT_LIMITS.max_bytes == 20 * 1024 * 1024
    refused(lambda: parse_edxml(b" " * (20 * 1024 * 1024 + 1)), "too_large")


def _shape(node: xml_guard.Node) -> tuple[int, int]:
    """(elements, depth) of a parsed tree."""
    shapes = [_shape(child) for child in node.children]
    return 1 + sum(count for count, _ in shapes), 1 + max((depth for _, depth in shapes), default=0)


def test_sample_size_is_what_the_limit_tests_assume() -> None:
    assert _shape(xml_guard.parse_xml(SAMPLE)) == (95, 8)  # Signature/.../Transform is deepest


@pytest.mark.parametrize(
    ("limits", "rule"),
    [
        pytest.param(EdxmlLimits(max_depth=7), "too_deep", id="depth"),
        pytest.param(EdxmlLimits(max_elements=94), "too_many_elements", id="elements"),
        pytest.param(EdxmlLimits(max_attachments=0), "too_many_attachments", id="attachments"),
        pytest.param(EdxmlLimits(max_attachment_bytes=135), "attachment_too_large", id="size"),
    ],
)
def test_each_limit_refuses_the_sample_just_past_its_size(limits: EdxmlLimits, rule: str) -> None:
    refused(lambda: parse_edxml(SAMPLE, limits=limits), rule)


def test_the_sample_passes_at_exactly_each_limit() -> None:
    exact = EdxmlLimits(max_depth=8, max_elements=95, max_attachments=1, max_attachment_bytes=136)

    assert parse_edxml(SAMPLE, limits=exact) == parse_edxml(SAMPLE)


@pytest.mark.parametrize("field", ["subject", "content"])
def test_subject_and_content_past_their_limits_are_refused_from_xml_and_json(field: str) -> None:
    document = parse_edxml(SAMPLE)
    length = len(document[field])
    over = EdxmlLimits(**{f"max_{field}_chars": length - 1})
    exact = EdxmlLimits(**{f"max_{field}_chars": length})

    assert refused(lambda: parse_edxml(SAMPLE, limits=over), "too_long").detail == (
        f"MessageHeader/{field.capitalize()} is longer than {length - 1} characters."
    )
    refused(lambda: validate_document(document, limits=over), "too_long")
    assert parse_edxml(SAMPLE, limits=exact) == document


def test_a_subject_of_6_mib_is_refused_by_default() -> None:
    """SECURITY-PROBE-2026-12 F12: four such documents made an agency's inbox unreadable."""
    document = {**parse_edxml(SAMPLE), "subject": "x" * (6 * 1024 * 1024)}

    refused(lambda: validate_document(document), "too_long")
    assert DEFAULT_LIMITS.max_subject_chars == 1_000


def test_oversized_attachment_is_refused_from_its_encoded_length() -> None:
    assert len(HUGE_ATTACHMENT) < DEFAULT_LIMITS.max_bytes

    refused(lambda: parse_edxml(HUGE_ATTACHMENT), "attachment_too_large")


@pytest.mark.parametrize(
    "data",
    [BILLION_LAUGHS, XXE_FILE, XXE_PARAMETER, EXTERNAL_DTD],
    ids=["billion-laughs", "xxe-file", "xxe-parameter-entity", "external-dtd"],
)
def test_expat_handlers_still_refuse_a_dtd_if_the_byte_scan_were_bypassed(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xml_guard, "_refuse_declarations", lambda data: None)

    refused(lambda: parse_edxml(data), "dtd_forbidden")


# --- invalid edXML documents ----------------------------------------------------------------


def _edited(*edits: tuple[bytes, bytes]) -> bytes:
    """SAMPLE with each `old` replaced once by `new`; an `old` that is not there fails loudly."""
    data = SAMPLE
    for old, new in edits:
        assert old in data, old
        data = data.replace(old, new, 1)
    return data


SUBJECT = SAMPLE[
    SAMPLE.index(b"<edXML:Subject>") : SAMPLE.index(b"</edXML:Subject>") + len(b"</edXML:Subject>")
]
ONE_ATTACHMENT = SAMPLE[SAMPLE.index(b"    <Attachment>") : SAMPLE.index(b"</AttachmentEncoded>")]
LAST_BASE64_LINE = b"PDwvUm9vdCAxIDAgUj4+CiUlRU9GCg=="
NEW_REFERENCE = (
    b"<edXML:Reference><edXML:ContentId>x</edXML:ContentId></edXML:Reference></edXML:edXMLManifest>"
)
S = SECRET.encode()


def _text(element: str, old: str, new: str) -> tuple[bytes, bytes]:
    """The edit that changes the text of SAMPLE's first `element` from `old` to `new`."""
    return f"<edXML:{element}>{old}<".encode(), f"<edXML:{element}>{new}<".encode()


@pytest.mark.parametrize(
    ("edits", "rule"),
    [
        pytest.param([(SUBJECT, b"")], "missing_field", id="no-subject"),
        pytest.param(
            [(SUBJECT, b"<edXML:Subject> \n </edXML:Subject>")], "missing_field", id="blank-subject"
        ),
        pytest.param([(SUBJECT, SUBJECT + SUBJECT)], "duplicate_field", id="two-subjects"),
        pytest.param(
            [(b"</edXML:Subject>", b"<edXML:b/></edXML:Subject>")],
            "bad_value",
            id="subject-holds-element",
        ),
        pytest.param(
            [(b"<edXML:DocumentType>", b"<edXML:X>"), (b"</edXML:DocumentType>", b"</edXML:X>")],
            "missing_field",
            id="no-document-type",
        ),
        pytest.param(
            [(b"<edXML:To>", b"<edXML:Cc>"), (b"</edXML:To>", b"</edXML:Cc>")],
            "missing_field",
            id="no-to",
        ),
        pytest.param(
            [(b">2024/03/15</edXML:Promulgation", b">15/03/2024</edXML:Promulgation")],
            "bad_date",
            id="day-first",
        ),
        pytest.param([(b">2024/03/29<", b">2024/02/30<")], "bad_date", id="not-in-calendar"),
        pytest.param([(b">2024/03/29<", b">" + S + b"<")], "bad_date", id="date-secret"),
        pytest.param(
            [(b"2024/03/15 14:30:05", b"2024-03-15T14:30:05")], "bad_date", id="iso-timestamp"
        ),
        pytest.param([(b"2024/03/15 14:30:05", b"2024/03/15 24:00:00")], "bad_date", id="hour-24"),
        pytest.param([(b">000.00.12.H30<", b">28.22.H17<")], "bad_organ_id", id="short-organ-id"),
        pytest.param([(b">000.00.12.H30<", b">" + S + b"<")], "bad_organ_id", id="organ-id-secret"),
        pytest.param(
            [(b">000.00.00.H30,2024/03/15,1234/UBND-KT<", b">1234/UBND-KT<")],
            "bad_document_id",
            id="document-id",
        ),
        pytest.param([_text("Priority", "1", "-1")], "bad_number", id="negative"),
        pytest.param([_text("Priority", "1", "99999999999")], "bad_number", id="huge"),
        pytest.param([_text("Priority", "1", "١")], "bad_number", id="arabic-digit"),
        pytest.param([_text("SteeringType", "1", "2")], "bad_value", id="steering-2"),
        pytest.param([_text("Direction", "false", "no")], "bad_value", id="direction-no"),
        pytest.param([_text("BussinessDocType", "0", "4")], "bad_value", id="doc-type-4"),
        pytest.param([(LAST_BASE64_LINE, LAST_BASE64_LINE[:-1] + b"!")], "bad_base64", id="base64"),
        pytest.param(
            [(b">cid:1234-UBND-KT<", b">cid:other<")], "attachment_mismatch", id="other-id"
        ),
        pytest.param(
            [(b">1234-UBND-KT.pdf<", b">khac.pdf<")], "attachment_mismatch", id="other-name"
        ),
        pytest.param(
            [(b"</edXML:edXMLManifest>", NEW_REFERENCE)], "attachment_mismatch", id="no-data"
        ),
        pytest.param(
            [
                (b"<edXML:ContentTransferEncoded", b"<edXML:Other"),
                (b"</edXML:ContentTransferEncoded>", b"</edXML:Other>"),
            ],
            "missing_field",
            id="no-content",
        ),
        pytest.param(
            [(b"</AttachmentEncoded>", ONE_ATTACHMENT + b"</AttachmentEncoded>")],
            "duplicate_field",
            id="same-id-twice",
        ),
    ],
)
def test_invalid_edxml_document_is_refused_naming_the_element(
    edits: list[tuple[bytes, bytes]], rule: str
) -> None:
    data = _edited(*edits)

    refused(lambda: parse_edxml(data), rule)


def test_error_detail_names_the_element_path() -> None:
    data = _edited((b">2024/03/29<", b">29/03/2024<"))

    error = refused(lambda: parse_edxml(data), "bad_date")

    assert "MessageHeader/DueDate" in error.detail
    assert "yyyy/MM/dd" in error.detail


# --- invalid canonical JSON -----------------------------------------------------------------


def _changed(path: str, value: Any) -> dict[str, Any]:
    """make_document() with the dotted `path` set to `value` (a missing marker deletes it)."""
    document = make_document(
        trace_headers=[{"organ_id": "000.00.00.H30", "timestamp": "2024-03-15T14:30:05"}],
        attachments=[
            {
                "content_id": "a",
                "attachment_name": "a.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4").decode(),
                "size_bytes": 8,
            }
        ],
    )
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return document


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        ("subject", _DELETE, "missing_field"),
        ("subject", "  \t ", "missing_field"),
        ("subject", 42, "bad_value"),
        ("subject", "nul\x00here", "bad_character"),
        ("subject", "not a char \ufffe", "bad_character"),
        ("content", "bell\x07", "bad_character"),
        ("to", [], "missing_field"),
        ("to", "000.00.12.H30", "bad_value"),
        ("from.organ_id", "000.00.00.h30", "bad_organ_id"),
        ("from.organ_id", SECRET, "bad_organ_id"),
        ("to.0.organ_name", None, "missing_field"),
        ("promulgation.date", "2024/03/15", "bad_date"),
        ("promulgation.date", SECRET, "bad_date"),
        ("due_date", "2024-02-30", "bad_date"),
        ("trace_headers.0.timestamp", "2024-03-15T14:30:05+07:00", "bad_date"),
        ("trace_headers.0.timestamp", "2024-03-15 14:30:05", "bad_date"),
        ("other_info.priority", -1, "bad_number"),
        ("other_info.priority", True, "bad_number"),
        ("other_info.priority", "1", "bad_number"),
        ("other_info.priority", 2**31, "bad_number"),
        ("other_info.direction", "false", "bad_value"),
        ("other_info.appendixes", "one", "bad_value"),
        ("steering_type", 2, "bad_value"),
        ("business", {"business_doc_type": 4}, "bad_value"),
        ("business", {"business_doc_reason": "x"}, "missing_field"),
        ("document_id", "000.00.00.H30,2024/03/15,1234/UBND-KT ", "bad_document_id"),
        ("document_id", "000.00.00.H30,2024/03/15,UBND-KT", "bad_document_id"),
        ("code.code_number", "12a", "bad_document_id"),  # document_id cannot be derived
        ("bussiness", {"business_doc_type": 0}, "unknown_field"),
        ("signer.name", "x", "unknown_field"),
        ("attachments.0.size_bytes", 9, "attachment_size_mismatch"),
        ("attachments.0.size_bytes", "8", "bad_number"),
        ("attachments.0.content_base64", "not base64!", "bad_base64"),
        ("attachments.0.content_base64", None, "missing_field"),
        ("attachments.0.content_id", "has space", "bad_value"),
        ("attachments.0.content_id", "cid:cid:a", "bad_value"),
        ("attachments.0.attachment_name", "", "missing_field"),
    ],
)
def test_invalid_canonical_document_is_refused_before_rendering(
    path: str, value: Any, rule: str
) -> None:
    document = _changed(path, value)

    refused(lambda: validate_document(document), rule)
    refused(lambda: render_edxml(document), rule)


def test_attachment_limits_apply_to_canonical_json_too() -> None:
    document = _changed("attachments.0.size_bytes", 8)

    refused(
        lambda: validate_document(document, limits=EdxmlLimits(max_attachment_bytes=7)),
        "attachment_too_large",
    )
    refused(
        lambda: validate_document(document, limits=EdxmlLimits(max_attachments=0)),
        "too_many_attachments",
    )
    twice = _changed("attachments", [document["attachments"][0]] * 2)
    refused(lambda: validate_document(twice), "duplicate_field")


def test_validation_does_not_modify_its_argument() -> None:
    document = _changed("attachments.0.content_id", "cid:a")
    before = copy.deepcopy(document)

    validate_document(document)
    render_edxml(document)

    assert document == before


# --- status messages ------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(STATUS_CODES))
def test_every_status_code_round_trips(code: str) -> None:
    status = make_status(status_code=code)

    assert parse_status(render_status(status)) == validate_status(status)


@pytest.mark.parametrize("code", ["00", "07", "1", "3", "14", "DONE", " 03x"])
def test_unknown_status_code_is_refused_in_json_and_in_edxml(code: str) -> None:
    refused(lambda: validate_status(make_status(status_code=code)), "bad_status_code")
    rendered = render_status(make_status())
    tampered = rendered.replace(b">03</edXML:StatusCode>", f">{code}</edXML:StatusCode>".encode())
    assert tampered != rendered
    refused(lambda: parse_status(tampered), "bad_status_code")


def test_status_message_has_the_documented_edxml_form() -> None:
    rendered = render_status(make_status(trace_headers=[]))
    status = parse_status(rendered)

    assert b"<edXML:StatusCode>03</edXML:StatusCode>" in rendered
    assert b"<edXML:Timestamp>2024/03/16 08:05:00</edXML:Timestamp>" in rendered
    assert b"<edXML:ResponseFor>" in rendered
    assert b"<edXML:StaffInfo>" in rendered
    assert status["staff_info"] == {
        "department": "Văn thư",
        "staff": "Lê Thị Cẩm Tú",
        "mobile": None,
        "email": None,
    }


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"timestamp": None}, "missing_field"),
        ({"timestamp": "16/03/2024 08:05:00"}, "bad_date"),
        ({"response_for": None}, "missing_field"),
        ({"from": organisation("H30")}, "bad_organ_id"),
        ({"status": "03"}, "unknown_field"),
    ],
)
def test_invalid_canonical_status_is_refused(change: dict[str, Any], rule: str) -> None:
    refused(lambda: render_status(make_status(**change)), rule)


def test_a_document_is_not_a_status_message() -> None:
    refused(lambda: parse_status(SAMPLE), "missing_field")


# --- properties -----------------------------------------------------------------------------

_VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
_CHARACTERS = st.one_of(
    st.sampled_from(_VIETNAMESE + "<&>\"' \t\r\n]"),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")),
)
texts = st.text(_CHARACTERS, max_size=24)
names = st.text(_CHARACTERS, min_size=1, max_size=24).filter(lambda s: s.strip() != "")
organ_ids = st.from_regex(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}", fullmatch=True)
numbers = st.integers(0, 2**31 - 1)
iso_dates = st.dates().map(lambda d: d.isoformat())
iso_datetimes = st.datetimes().map(lambda d: d.replace(microsecond=0).isoformat())
notations = st.from_regex(r"[A-ZĐ][A-ZĐ0-9-]{0,10}", fullmatch=True)
document_ids = st.builds(
    lambda organ, day, number, notation: f"{organ},{day.replace('-', '/')},{number}/{notation}",
    organ_ids,
    iso_dates,
    numbers,
    notations,
)


def _record(required: dict[str, Any], optional: dict[str, Any]) -> Any:
    """A record whose optional keys are absent, null or set: all three must normalise alike."""
    return st.fixed_dictionaries(
        required, optional={key: st.none() | value for key, value in optional.items()}
    )


organisations = _record(
    {"organ_id": organ_ids, "organ_name": names},
    {
        key: texts
        for key in ("organization_in_charge", "organ_add", "email", "telephone", "fax", "website")
    },
)
staff_infos = _record({}, {key: texts for key in ("department", "staff", "mobile", "email")})
attachments = st.lists(
    st.builds(
        lambda content_id, name, description, content_type, content, declare: {
            "content_id": content_id,
            "attachment_name": name,
            "description": description,
            "content_type": content_type,
            "content_base64": base64.b64encode(content).decode(),
            **({"size_bytes": len(content)} if declare else {}),
        },
        st.from_regex(r"[A-Za-z0-9._@-]{1,20}", fullmatch=True),
        names,
        st.none() | texts,
        st.sampled_from(["application/pdf", "application/zip", "text/plain; charset=utf-8"]),
        st.binary(max_size=48),
        st.booleans(),
    ),
    max_size=3,
    unique_by=lambda attachment: attachment["content_id"],
)
businesses = _record(
    {"business_doc_type": st.integers(0, 3)},
    {
        "business_doc_reason": texts,
        "document_id": document_ids,
        "paper": st.integers(0, 1),
        "staff_info": staff_infos,
        "replacement_info": st.lists(
            st.fixed_dictionaries(
                {"document_id": document_ids, "organ_ids": st.lists(organ_ids, max_size=2)}
            ),
            max_size=2,
        ),
    },
)
documents = _record(
    {
        "from": organisations,
        "to": st.lists(organisations, min_size=1, max_size=3),
        "code": st.fixed_dictionaries(
            {"code_number": st.integers(0, 99999).map(str), "code_notation": notations}
        ),
        "promulgation": st.fixed_dictionaries({"place": texts, "date": iso_dates}),
        "document_type": _record({"type": numbers, "type_name": names}, {"type_detail": numbers}),
        "subject": names,
        "signer": _record({"position": texts, "full_name": names}, {"competence": texts}),
        "other_info": _record(
            {"priority": numbers},
            {
                "sphere_of_promulgation": texts,
                "typer_notation": texts,
                "promulgation_amount": numbers,
                "page_amount": numbers,
                "direction": st.booleans(),
                "appendixes": st.lists(texts, max_size=2),
            },
        ),
    },
    {
        "document_id": document_ids,
        "content": texts,
        "due_date": iso_dates,
        "to_places": st.lists(texts, max_size=3),
        "steering_type": st.integers(0, 1),
        "trace_headers": st.lists(
            st.fixed_dictionaries({"organ_id": organ_ids, "timestamp": iso_datetimes}),
            max_size=3,
        ),
        "business": businesses,
        "attachments": attachments,
    },
)
statuses = _record(
    {
        "response_for": st.fixed_dictionaries(
            {
                "organ_id": organ_ids,
                "code": names,
                "promulgation_date": iso_dates,
                "document_id": document_ids,
            }
        ),
        "from": organisations,
        "status_code": st.sampled_from(sorted(STATUS_CODES)),
        "timestamp": iso_datetimes,
    },
    {
        "description": texts,
        "staff_info": staff_infos,
        "trace_headers": st.lists(
            st.fixed_dictionaries({"organ_id": organ_ids, "timestamp": iso_datetimes}),
            max_size=2,
        ),
    },
)


@settings(max_examples=100, deadline=None)
@given(documents)
def test_parse_inverts_render_for_every_valid_document(document: dict[str, Any]) -> None:
    expected = validate_document(document)

    # A given DocumentId may name another sender or number: kept, and noted (read_edxml).
    assert read_edxml(render_edxml(document)).message == expected
    assert validate_document(expected) == expected  # the normal form is a fixed point


@settings(max_examples=100, deadline=None)
@given(documents)
def test_render_is_stable_once_normalised(document: dict[str, Any]) -> None:
    rendered = render_edxml(document)
    parsed = read_edxml(rendered).message

    assert render_edxml(parsed) == rendered
    assert json.loads(json.dumps(parsed)) == parsed


@settings(max_examples=100, deadline=None)
@given(statuses)
def test_status_parse_inverts_render(status: dict[str, Any]) -> None:
    rendered = render_status(status)

    assert parse_status(rendered) == validate_status(status)
    assert render_status(parse_status(rendered)) == rendered


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_are_parsed_or_refused_with_invalid_edxml_only(data: bytes) -> None:
    with contextlib.suppress(InvalidEdxml):  # anything else escaping fails the test
        parse_edxml(data)


SDK_SAMPLES = Path(__file__).parents[2] / "samples" / "sdk"  # see ORIGIN.md there


@pytest.mark.parametrize(
    ("name", "rules"),
    [
        ("edoc_new.bak.edxml", ["bad_organ_id", "document_id_mismatch"]),
        ("edoc_replacement.edxml", ["document_id_mismatch"]),
        ("edoc_revocation.edxml", ["document_id_mismatch"]),
        ("edoc_update.edxml", ["document_id_mismatch"]),
    ],
)
def test_every_well_formed_sdk_document_is_read_with_its_nonconformities_noted(
    name: str, rules: list[str]
) -> None:
    data = (SDK_SAMPLES / name).read_bytes()

    reading = read_edxml(data)

    assert [n.rule for n in reading.nonconformities] == rules
    assert reading.message["document_id"].startswith("000.00.00.G22,2015/09/30,7816/")
    with pytest.raises(InvalidEdxml) as refused:  # strict: the first of them, same code
        read_edxml(data, strict=True)
    assert refused.value.rule == rules[0]


@pytest.mark.parametrize("name", sorted(p.name for p in SDK_SAMPLES.glob("status*.edxml")))
def test_every_sdk_status_message_is_read_strictly(name: str) -> None:
    data = (SDK_SAMPLES / name).read_bytes()

    assert read_status(data, strict=True) == read_status(data)


@pytest.mark.parametrize("name", ["edoc_new.edxml", "edoc.edxml"])
def test_the_sdk_samples_that_are_not_well_formed_stay_refused(name: str) -> None:
    with pytest.raises(InvalidEdxml) as refused:
        read_edxml((SDK_SAMPLES / name).read_bytes())

    assert refused.value.rule == "not_well_formed"


def test_a_missing_leaf_the_standard_requires_is_noted_but_one_that_routes_is_refused() -> None:
    no_position = re.sub(rb"<edXML:Position>[^<]*</edXML:Position>", b"", SAMPLE)
    no_number = re.sub(rb"<edXML:CodeNumber>[^<]*</edXML:CodeNumber>", b"", SAMPLE)

    reading = read_edxml(no_position)

    assert reading.message["signer"]["position"] is None
    assert [(n.rule, n.detail) for n in reading.nonconformities] == [
        ("missing_field", "MessageHeader/SignerInfo has no Position.")
    ]
    with pytest.raises(InvalidEdxml) as refused:
        read_edxml(no_number)
    assert refused.value.rule == "missing_field"


@pytest.mark.parametrize("organ_id", [b"", b"000.00.00.H30,1", b"a b", b"0" * 17, "Sở".encode()])
def test_an_organisation_id_no_system_could_route_is_refused_even_leniently(
    organ_id: bytes,
) -> None:
    bad = SAMPLE.replace(b">000.00.12.H30<", b">" + organ_id + b"<")

    with pytest.raises(InvalidEdxml) as refused:
        read_edxml(bad)

    assert refused.value.rule in ("bad_organ_id", "missing_field")


def test_status_messages_are_rendered_in_the_sdk_element_order_without_an_empty_trace() -> None:
    sample = (SDK_SAMPLES / "status.edxml").read_bytes()
    status = parse_status(sample)

    rendered = render_status(status)

    def order(data: bytes) -> list[bytes]:
        header = data.split(b"<edXML:MessageHeader>")[1].split(b"</edXML:MessageHeader>")[0]
        return re.findall(rb"^\s{8}<edXML:(\w+)>", header, flags=re.MULTILINE)

    assert order(rendered) == [
        b"From",
        b"ResponseFor",
        b"StaffInfo",
        b"StatusCode",
        b"Description",
        b"Timestamp",
    ]
    assert b"TraceHeaderList" not in rendered
    assert parse_status(rendered) == status
