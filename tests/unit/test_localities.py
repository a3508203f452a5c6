"""Place names as citizens type them: a unique match goes through, a shared name is a choice."""

from __future__ import annotations

from bot.domain.localities import find, named_place, place_choice


def labels(text: str) -> list[str]:
    return [loc.label for loc in find(text)[0]]


def test_a_unique_name_is_one_match() -> None:
    assert labels("phuong hoan kiem") == ["Phường Hoàn Kiếm, Thành phố Hà Nội"]
    assert labels("UBND phường Hoàn Kiếm") == ["Phường Hoàn Kiếm, Thành phố Hà Nội"]


def test_a_shared_name_gives_every_place_with_its_province() -> None:
    found = labels("xa tan an")
    assert "Xã Tân An, Tỉnh Tuyên Quang" in found and "Xã Tân An, Thành phố Hải Phòng" in found
    assert all(label.startswith("Xã ") for label in found), "the typed unit word narrows"
    assert "Xã Tân Ân, Tỉnh Cà Mau" in found, "typed without diacritics, Tân Ân fits too"
    assert len(labels("tan an")) > len(found), "without a unit word, wards too"


def test_typed_diacritics_keep_only_that_spelling() -> None:
    assert "Xã Tân Ân, Tỉnh Cà Mau" not in labels("Xã Tân An")
    assert labels("Xã Tân Ân") == ["Xã Tân Ân, Tỉnh Cà Mau"]


def test_a_province_after_a_comma_narrows_to_one() -> None:
    assert labels("tân an, nghệ an") == ["Xã Tân An, Tỉnh Nghệ An"]
    assert labels("Xã Tân An, Tỉnh Nghệ An") == ["Xã Tân An, Tỉnh Nghệ An"], "a button's label"
    assert labels("tan an, hai phong") == ["Xã Tân An, Thành phố Hải Phòng"]


def test_the_choice_has_at_most_the_channel_button_limit() -> None:
    found = find("xa tan an")[0]
    question, choices = place_choice("xa tan an", found, 10)
    assert choices == found and "xa tan an" in question
    question, choices = place_choice("xa tan an", found, 5)
    assert choices == [], "more places than buttons: the list, and a request for the province"
    assert all(loc.label in question for loc in found) and "tên tỉnh" in question


def test_the_one_place_a_text_names_is_found_and_a_shared_name_is_no_guess() -> None:
    hoan_kiem = named_place("Đường Lê Lợi, phường Hoàn Kiếm")
    assert hoan_kiem is not None and hoan_kiem.name == "Phường Hoàn Kiếm"
    assert named_place("Phường Hoàn Kiếm, Thành phố Hà Nội") == hoan_kiem
    assert named_place("trước cổng chợ, gần trường tiểu học") is None
    # seven communes are called Tân An: without a province it is none of them
    assert named_place("ngõ 5, xã Tân An") is None
    tan_an = named_place("xã Tân An, Nghệ An")
    assert tan_an is not None and tan_an.province_name.endswith("Nghệ An")
