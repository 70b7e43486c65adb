"""Class gallery: the runs students chose to share, ranked by the quality meter, live, readable on a projector."""
import streamlit as st

from studio.session import gallery, keep_alive, page_setup, plain, run_manager, session_id, withdraw_from_gallery

REFRESH_SECONDS = 2  # grids change once an epoch; statuses every few seconds
COLUMNS = {False: 5, True: 3}  # presenter mode: fewer, larger entries for the back of the room
EMPTY = ("Nothing shared yet. On the Train page, a run's `Share to the class gallery` button puts it here, under a "
         "nickname; only the grid, the status and the quality meter's figures are shown.")
RANKING = ("Ranked by the quality meter: digits by the share of samples the classifier reads with confidence "
           "(legible), emoji by the share the colour meter reads as emoji, other images by the Fréchet distance "
           "over real images' own. Refreshes every 2 s.")


def score_line(score):
    if score is None:
        return "quality: after the first epoch"
    if score.legible is not None:
        asked = f" · as asked {score.as_asked:.0%}" if score.as_asked is not None else ""
        return f"legible {score.legible:.0%}{asked} · Fréchet {score.frechet:.1f}"
    if score.recognised is not None:
        return f"read as emoji {score.recognised:.0%} · covers {score.coverage:.0%} · Fréchet {score.frechet:.0f}"
    real = f" (real {score.real_frechet:.2f})" if score.real_frechet else ""
    return f"Fréchet {score.frechet:.2f}{real}"


def board_view(presenting):
    """The board, polled: every entry with its newest grid, where its run is, and the meter's verdict."""
    keep_alive()
    entries = gallery().board(run_manager().get)
    if not entries:
        st.info(EMPTY)
        return
    columns = COLUMNS[presenting]
    for start in range(0, len(entries), columns):
        for column, (rank, entry) in zip(st.columns(columns), enumerate(entries[start:start + columns], start + 1)):
            with column.container(border=True):
                name = f"{rank}. {plain(entry.nickname)}"
                st.markdown(f"### {name}" if presenting else f"**{name}**")
                if entry.grid_png:
                    st.image(entry.grid_png, width="stretch")
                else:
                    st.caption("The first grid comes at the end of the first epoch.")
                status = " · ".join(part for part in (entry.dataset, entry.where, entry.state) if part)
                (st.markdown if presenting else st.caption)(f"{score_line(entry.score)}  \n{status}")
                if entry.session_id == session_id() and not presenting:
                    st.button("Withdraw", key=f"gallery_withdraw_{entry.entry_id}", on_click=withdraw_from_gallery,
                              args=(entry.entry_id,))


page_setup("gallery")
title_col, presenter_col = st.columns([4, 1], vertical_alignment="bottom")
title_col.title("Class gallery")
presenting = presenter_col.toggle("Presenter mode", key="gallery_presenter", help="fewer, larger entries")
if not gallery().enabled:
    st.info("This server's class gallery is turned off.")
    st.stop()
if not presenting:
    st.caption(f"{RANKING} Each of us keeps at most {gallery().per_session} entries: a new share replaces your "
               "oldest, and a nickname that looks like one already here is refused.")
st.fragment(board_view, run_every=REFRESH_SECONDS)(presenting)
