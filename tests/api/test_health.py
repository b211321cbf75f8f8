def test_health_needs_no_token(api_url):
    import httpx

    assert httpx.get(f"{api_url}/health").json() == {"status": "ok"}
