"""Page forms of grids. They parse input; grid_services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core.models import User
from shouwang.registry.forms import VillageChoiceField
from shouwang.registry.grid_selectors import grid_worker_choices
from shouwang.registry.models import Grid, Household
from shouwang.registry.selectors import household_queryset, villages_for


class WorkerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj}（{obj.get_role_display()}）"


class GridCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("网格名称"), max_length=100)
    village = VillageChoiceField(
        label=gettext_lazy("行政村（社区）"), queryset=None, empty_label=gettext_lazy("请选择")
    )
    note = forms.CharField(
        label=gettext_lazy("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, actor: User | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages_for(actor=actor).select_related("parent")


class GridEditForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("网格名称"), max_length=100)
    members = WorkerChoiceField(
        label=gettext_lazy("网格员"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("可选管辖该村的村干部和乡镇（街道）工作人员。"),
    )
    note = forms.CharField(
        label=gettext_lazy("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, grid: Grid, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"name": grid.name, "members": list(grid.members.all()), "note": grid.note}
        )
        super().__init__(*args, **kwargs)
        # Current workers stay listed even if they no longer qualify, so the form can drop them.
        eligible = grid_worker_choices(village_code=grid.village_id).values("pk")
        current = grid.members.values("pk")
        self.fields["members"].queryset = User.objects.filter(
            Q(pk__in=eligible) | Q(pk__in=current)
        ).order_by("role", "username")


class AssignForm(forms.Form):
    """户编号, one per line. ``clean`` turns them into households, with one error per bad line."""

    numbers = forms.CharField(
        label=gettext_lazy("户编号（每行一个）"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, actor: User | None, grid: Grid, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.grid = grid

    def clean_numbers(self) -> list[Household]:
        lines = [
            (n, line.strip())
            for n, line in enumerate(self.cleaned_data["numbers"].splitlines(), start=1)
        ]
        lines = [(n, number) for n, number in lines if number]
        found = {
            h.household_number: h
            for h in household_queryset(actor=self.actor)
            .select_related("village", "grid")
            .filter(household_number__in={number for _n, number in lines})
        }
        errors = []
        households: dict[int, Household] = {}
        for n, number in lines:
            household = found.get(number)
            if household is None:
                errors.append(
                    _("第 %(line)d 行：找不到户编号 %(number)s（或不在您的管辖范围内）")
                    % {"line": n, "number": number}
                )
            elif household.village_id != self.grid.village_id:
                errors.append(
                    _("第 %(line)d 行：户 %(number)s 属于 %(village)s，不在本网格所在的村")
                    % {"line": n, "number": number, "village": household.village.name}
                )
            else:
                households[household.pk] = household
        if errors:
            raise forms.ValidationError(errors)
        if not households:
            raise forms.ValidationError(_("请至少填写一个户编号"))
        return list(households.values())
