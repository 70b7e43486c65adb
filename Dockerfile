# GAN Studio as a Hugging Face Space (Docker SDK) or any container host: `docker build -t gan-studio .` then
# `docker run -p 8501:8501 gan-studio`.
FROM python:3.11-slim

# Spaces run containers as uid 1000; files the app writes (runs, uploads, saved generators) belong to it.
RUN useradd --create-home --uid 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /home/user/app

# Dependencies first, so changes to the pages rebuild in seconds. torch from PyPI runs on CPU and CUDA hardware alike.
# requirements.txt installs the engine too (`-e .`): its package files come first.
COPY --chown=user requirements.txt pyproject.toml README.md ./
COPY --chown=user ganlib ganlib
RUN pip install --user -r requirements.txt

COPY --chown=user . .

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
