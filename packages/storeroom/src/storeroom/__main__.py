from storeroom.cli import main

main()
