FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
      tesseract-ocr tesseract-ocr-nld tesseract-ocr-eng tesseract-ocr-deu poppler-utils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e .
ENV KLERK_DATA_DIR=/data OMP_THREAD_LIMIT=1
CMD ["klerk", "serve"]
