"""A reference liaison consumer for a police or child-protection unit.

It reads only its agency's topic, checks that Lantern's disclosure service signed each package (a
package is sealed to the agency's public key, which anyone may hold: the seal alone does not say who
made it), opens it with the agency's private key, stores the opened package (0600) or shows a summary, and acknowledges it on
``le.acknowledgements.v1``, signed with the agency's key; the offset is committed only after the
acknowledgement is sent, so a crash shows a package again rather than losing it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import ValidationError

from schemas import cloudevents
from schemas.disclosure import LawEnforcementPackageV2, LawEnforcementPackageV3, LiaisonAcknowledgementV2
from schemas.topics import LE_ACKNOWLEDGEMENTS, agency_topic
from services.common.agency_keys import AgencyKeys, PackageUnreadable, open_package, sign_acknowledgement
from services.common.kafka import PLAINTEXT, KafkaSecurity, ensure_topics, writes_only_where_the_broker_says
from services.common.signing import EventVerifier, Unauthenticated


def summary(package: LawEnforcementPackageV2) -> dict[str, object]:
    """What the terminal shows: the case and what the package carries, not the content itself."""
    return {
        "case_reference": package.case_reference,
        "package_id": str(package.package_id),
        "supplementary_to": str(package.supplementary_to) if package.supplementary_to else None,
        "basis": package.basis.value,
        "urgency": package.urgency.value,
        "fields": [field.value for field in package.fields],
        "issued_at": package.issued_at.isoformat(),
    }


def store(package: LawEnforcementPackageV2, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{package.case_reference}_{package.package_id}.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(package.model_dump_json(indent=2))
    return path


async def run_liaison(
    bootstrap_servers: str,
    keys: AgencyKeys,
    verifier: EventVerifier,
    out: Path | None,
    show: Callable[[str], None],
    complain: Callable[[str], None],
    max_packages: int | None = None,
    idle_timeout: float | None = None,
    security: KafkaSecurity = PLAINTEXT,
    settling_seconds: float = 0.0,
) -> int:
    """Consume, open, store or show, and acknowledge packages; return how many were acknowledged.

    A package that disclosure did not sign (``verifier``, Lantern's services' public keys), or that
    does not open with ``keys`` (sealed to another key, or altered), is reported and left
    unacknowledged: Lantern's record then shows it was never received.
    """
    agency_id = keys.agency_id
    topic = agency_topic(agency_id)
    await ensure_topics(bootstrap_servers, (topic, LE_ACKNOWLEDGEMENTS), security=security)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=f"liaison-{agency_id}",
        client_id=f"liaison-{agency_id}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        **security.client_options(),
    )
    producer = writes_only_where_the_broker_says(
        AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=f"liaison-{agency_id}",
            acks="all",
            **security.client_options(),
        ),
        settling_seconds,
    )
    await consumer.start()
    await producer.start()
    acknowledged = 0
    try:
        while max_packages is None or acknowledged < max_packages:
            batches = await consumer.getmany(timeout_ms=int((idle_timeout or 3600) * 1000))
            if not batches:
                if idle_timeout is not None:
                    break
                continue
            for records in batches.values():
                for record in records:
                    try:
                        verifier.verify(record.topic, record.key, record.value or b"", record.headers)
                    except Unauthenticated as error:
                        complain(
                            f"offset {record.offset}: not signed by Lantern's disclosure service ({error}), skipped"
                        )
                        continue
                    try:
                        sealed = LawEnforcementPackageV3.model_validate_json(record.value or b"")
                    except ValidationError:
                        complain(f"offset {record.offset}: not a sealed package, skipped")
                        continue
                    if sealed.agency_id != agency_id:
                        complain(f"offset {record.offset}: a package for another agency, skipped")
                        continue
                    try:
                        package = open_package(sealed, keys)
                    except PackageUnreadable:
                        complain(
                            f"offset {record.offset}: package {sealed.package_id} does not open with"
                            f" key {keys.public.key_id} (sealed to {sealed.key_id}), not acknowledged"
                        )
                        continue
                    line = summary(package)
                    if out is not None:
                        line["stored_at"] = str(store(package, out))
                    show(json.dumps(line, ensure_ascii=False))
                    receipt = sign_acknowledgement(
                        LiaisonAcknowledgementV2(
                            package_id=package.package_id,
                            case_reference=package.case_reference,
                            agency_id=agency_id,
                        ),
                        keys,
                    )
                    ce_headers = cloudevents.headers(
                        receipt.acknowledgement_id, receipt.message_type, receipt.schema_version,
                        cloudevents.source_of(f"liaison/{agency_id}"), receipt.acknowledged_at,
                    )  # fmt: skip
                    await producer.send_and_wait(
                        LE_ACKNOWLEDGEMENTS,
                        receipt.model_dump_json().encode(),
                        key=receipt.partition_key,
                        headers=[(name, value.encode()) for name, value in ce_headers.items()],
                    )
                    acknowledged += 1
            await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()
    return acknowledged
