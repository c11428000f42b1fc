from klerk.cli import main

main()
