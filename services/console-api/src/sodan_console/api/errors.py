"""Clear Japanese error messages for every 4xx the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

_FIELD_LABELS = {
    "login": "ログインID",
    "password": "パスワード",
    "totp": "確認コード",
    "code": "確認コード",
    "presence": "状態",
    "text": "本文",
    "status": "状態",
    "urgency": "緊急度",
    "cursor": "カーソル",
    "limit": "件数",
    "case_id": "相談ID",
    "message_id": "メッセージID",
    "enabled": "緊急対応モード",
    "reason": "理由",
    "sticker": "スタンプ",
    "quick_replies": "クイックリプライ",
    "label": "ボタン名",
    "confirm_personal_data": "個人情報の確認",
    "title": "題名",
    "category": "分類",
    "body": "本文",
    "sort_order": "並び順",
    "version": "版",
    "display_name": "表示名",
    "role": "役割",
    "current_password": "現在のパスワード",
    "new_password": "新しいパスワード",
    "characteristics": "特徴",
    "cautions": "注意事項",
    "flags": "フラグ",
    "corrects": "訂正するメモ",
    # the case list's filters, labels and channels
    "assignee": "担当者",
    "channel": "チャネル",
    "from": "受付日（開始）",
    "to": "受付日（終了）",
    "label_id": "ラベルID",
    "name": "名前",
    "colour": "色",
    "retired": "使用終了",
    "note": "メモ",
}

_DEFAULT_BY_STATUS = {
    400: "リクエストが正しくありません",
    401: "ログインしてください",
    403: "この操作は許可されていません",
    404: "見つかりません",
    405: "この操作はできません",
    409: "現在の状態ではこの操作はできません",
    429: "しばらく待ってからもう一度お試しください",
}


def _message_for(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "必須です"
    if kind == "string_too_short":
        return "入力してください"
    if kind == "string_too_long":
        return f"{ctx.get('max_length')}文字以内で入力してください"
    if kind == "value_error":
        reason = str(ctx.get("error", ""))
        # Our own validators word their refusal in Japanese; pydantic's stay generic.
        return reason if reason and not reason.isascii() else "入力してください"
    if kind in ("bool_parsing", "bool_type"):
        return "true か false で指定してください"
    if kind == "too_long":
        return f"{ctx.get('max_length')}個以内で指定してください"
    if kind in ("literal_error", "enum"):
        return "選択肢の中から指定してください"
    if kind.startswith("uuid"):
        return "IDの形式が正しくありません"
    if kind in ("int_parsing", "greater_than_equal", "less_than_equal"):
        return "数値の範囲が正しくありません"
    if kind == "extra_forbidden":
        return "不明な項目です"
    if kind in ("json_invalid", "model_attributes_type", "dict_type"):
        return "JSONの形式が正しくありません"
    return "値が正しくありません"


def _field_of(error: dict[str, Any]) -> str:
    # Only the leading location is dropped (a field may itself be called "body"), and
    # list items located by index (status=…&status=…) name the list, not "0".
    loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    if loc and loc[0] in ("body", "query", "path"):
        loc = loc[1:]
    if "quick_replies" in loc:
        return "quick_replies"
    return loc[-1] if loc else ""


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            field = _field_of(error)
            errors.append({"field": field, "message": _message_for(error)})
        first = errors[0] if errors else {"field": "", "message": "値が正しくありません"}
        label = _FIELD_LABELS.get(first["field"], first["field"])
        detail = f"{label}: {first['message']}" if label else first["message"]
        return JSONResponse(status_code=422, content={"detail": detail, "errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if not isinstance(detail, str) or detail.isascii():
            detail = _DEFAULT_BY_STATUS.get(exc.status_code, "エラーが発生しました")
        return JSONResponse(
            status_code=exc.status_code, content={"detail": detail}, headers=exc.headers
        )
