"""/api/v1/boards/: own boards as board JSON (a thin adapter over dashboards.boards)."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from smarketing.api.errors import errors
from smarketing.dashboards.boards import (
    BoardError,
    board_can_edit,
    board_for_reader,
    board_save,
    boards_visible,
)
from smarketing.dashboards.models import Board


def board_json(board: Board, user) -> dict:
    return {"id": board.pk, "owner": board.owner.get_username(), **board.as_json(),
            "can_edit": board_can_edit(user=user, board=board),
            "url": reverse("dashboards:board", args=[board.pk])}


def _invalid(error: BoardError) -> Response:
    return Response(errors(error.message, field=error.field), status=status.HTTP_400_BAD_REQUEST)


class BoardListView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="The boards you can see", operation_id="v1_boards_list")
    def get(self, request: Request) -> Response:
        boards = [board_json(board, request.user) for board in boards_visible(request.user)]
        return Response({"count": len(boards), "results": boards})

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
                   summary="Create a board from board JSON")
    def post(self, request: Request) -> Response:
        try:
            board = board_save(user=request.user, data=request.data)
        except BoardError as error:
            return _invalid(error)
        return Response(board_json(board, request.user), status=status.HTTP_201_CREATED)


class BoardDetailView(APIView):
    def _board(self, request: Request, pk: int) -> Board:
        board = board_for_reader(user=request.user, pk=pk)
        if board is None:
            raise Http404(f"no board {pk}")
        return board

    def _forbidden(self) -> Response:
        return Response(errors(_("Only the board's owner or a data manager can change it.")),
                        status=status.HTTP_403_FORBIDDEN)

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="One board")
    def get(self, request: Request, pk: int) -> Response:
        return Response(board_json(self._board(request, pk), request.user))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
                   summary="Replace a board with new board JSON")
    def put(self, request: Request, pk: int) -> Response:
        board = self._board(request, pk)
        if not board_can_edit(user=request.user, board=board):
            return self._forbidden()
        try:
            board = board_save(user=request.user, data=request.data, board=board)
        except BoardError as error:
            return _invalid(error)
        return Response(board_json(board, request.user))

    @extend_schema(responses={204: None}, summary="Delete a board")
    def delete(self, request: Request, pk: int) -> Response:
        board = self._board(request, pk)
        if not board_can_edit(user=request.user, board=board):
            return self._forbidden()
        board.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
