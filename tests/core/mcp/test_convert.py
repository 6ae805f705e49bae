"""MCP content → aiops content parts, one case per MCP content type."""

from __future__ import annotations

import base64

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from aiops_core.mcp.convert import convert_content, convert_result, error_text
from aiops_core.messages import DataPart, ImagePart, TextPart

PNG = base64.b64encode(b"\x89PNG fake").decode()


def test_each_content_type_has_one_mapping():
    assert convert_content(TextContent(type="text", text="hi")) == TextPart(text="hi")
    assert convert_content(
        ImageContent(type="image", data=PNG, mime_type="image/jpeg")
    ) == ImagePart(data=PNG, media_type="image/jpeg")
    audio = convert_content(AudioContent(type="audio", data=PNG, mime_type="audio/wav"))
    assert audio == TextPart(text="[audio audio/wav, 9 bytes, omitted]")
    text_resource = EmbeddedResource(
        type="resource",
        resource=TextResourceContents(
            uri="file:///cfg", mime_type="text/plain", text="hostname r1"
        ),
    )
    assert convert_content(text_resource) == TextPart(text="hostname r1")
    image_blob = EmbeddedResource(
        type="resource",
        resource=BlobResourceContents(uri="file:///a.png", mime_type="image/png", blob=PNG),
    )
    assert convert_content(image_blob) == ImagePart(data=PNG, media_type="image/png")
    other_blob = EmbeddedResource(
        type="resource",
        resource=BlobResourceContents(uri="file:///a.bin", mime_type="application/zip", blob=PNG),
    )
    assert convert_content(other_blob) == TextPart(
        text="[binary resource file:///a.bin (application/zip, 9 bytes)]"
    )
    link = ResourceLink(
        type="resource_link",
        uri="file:///x",
        name="x",
        description="a file",
        mime_type="text/plain",
    )
    assert convert_content(link) == DataPart(
        data={
            "type": "resource_link",
            "uri": "file:///x",
            "name": "x",
            "description": "a file",
            "mime_type": "text/plain",
        }
    )


def test_structured_content_replaces_text_that_repeats_it():
    result = CallToolResult(
        content=[
            TextContent(type="text", text='{"status": "up"}'),
            TextContent(type="text", text="checked at 10:00"),
        ],
        structured_content={"status": "up"},
    )
    assert convert_result(result) == [
        DataPart(data={"status": "up"}),
        TextPart(text="checked at 10:00"),
    ]


def test_a_plain_value_wrapped_by_the_sdk_stays_text():
    wrapped = CallToolResult(
        content=[TextContent(type="text", text="42")], structured_content={"result": 42}
    )
    assert convert_result(wrapped) == [TextPart(text="42")]
    lonely = CallToolResult(content=[], structured_content={"result": 42})
    assert convert_result(lonely) == [DataPart(data={"result": 42})]


def test_error_text_joins_the_text_blocks():
    result = CallToolResult(
        content=[TextContent(type="text", text=" denied "), TextContent(type="text", text="twice")],
        is_error=True,
    )
    assert error_text(result) == "denied twice"
    assert error_text(CallToolResult(content=[], is_error=True)) == "the tool reported an error"
